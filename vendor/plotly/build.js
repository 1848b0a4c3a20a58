// Builds the browser scripts this folder vendors into ../../assets, with the settings of plotly.js's own
// esbuild-config.js:
// - plotly.min.js from entry.js (a partial plotly.js bundle, patches/ applied);
// - regenerator-runtime.min.js: the one part of @babel/polyfill that Dash's own scripts use (their `regeneratorRuntime`
//   global); app.py leaves the 99 KB polyfill out of the page.
const esbuild = require('esbuild');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const { glsl } = require('esbuild-plugin-glsl');
const { environmentPlugin } = require('esbuild-plugin-environment');
const version = (name) => require(`${name}/package.json`).version;
const assets = `${__dirname}/../../assets`;

esbuild.build({
  entryPoints: [`${__dirname}/entry.js`],
  outfile: `${assets}/plotly.min.js`,
  bundle: true, minify: true, format: 'iife', target: 'es2016', legalComments: 'none',
  banner: { js: `/* plotly.js v${version('plotly.js')} (MIT licence, Plotly, Inc.), partial bundle: vendor/plotly/entry.js */` },
  plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
  alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
  define: { global: 'window', 'define.amd': 'false' },
}).then(() => console.log(`assets/plotly.min.js: plotly.js ${version('plotly.js')}`));

// A classic script (not bundled: as a script it sets the global itself, as @babel/polyfill's copy does).
esbuild.build({
  entryPoints: [require.resolve('regenerator-runtime/runtime.js')],
  outfile: `${assets}/regenerator-runtime.min.js`,
  bundle: false, minify: true, target: 'es2016', legalComments: 'none',
  banner: { js: `/* regenerator-runtime v${version('regenerator-runtime')} (MIT licence, Facebook, Inc.) */` },
}).then(() => console.log(`assets/regenerator-runtime.min.js: regenerator-runtime ${version('regenerator-runtime')}`));
