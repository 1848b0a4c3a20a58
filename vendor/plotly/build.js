// Builds ../../assets/plotly.min.js from entry.js with the settings of plotly.js's own esbuild-config.js.
const esbuild = require('esbuild');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const { glsl } = require('esbuild-plugin-glsl');
const { environmentPlugin } = require('esbuild-plugin-environment');
const version = require('plotly.js/package.json').version;

esbuild.build({
  entryPoints: [`${__dirname}/entry.js`],
  outfile: `${__dirname}/../../assets/plotly.min.js`,
  bundle: true, minify: true, format: 'iife', target: 'es2016', legalComments: 'none',
  banner: { js: `/* plotly.js v${version} (MIT licence, Plotly, Inc.), partial bundle: vendor/plotly/entry.js */` },
  plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
  alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
  define: { global: 'window', 'define.amd': 'false' },
}).then(() => console.log(`assets/plotly.min.js: plotly.js ${version}`));
