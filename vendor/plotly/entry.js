// The trace types the dashboard draws, and nothing else: the full plotly.js costs 1.44 MB gzip on the first load,
// this bundle about 0.9 MB. Add a trace here (and rebuild) before using a new trace type in figures/.
// The bundle still names MapLibre's tile and glyph servers; they are fetched only for tile styles or text on a map,
// which figures/ never use (white-bg, no text): the browser tests assert that `/` and `/wall` ask nothing outside.
var Plotly = require('plotly.js/lib/core');
Plotly.register([
  require('plotly.js/lib/bar'),           // scatter comes with the core
  require('plotly.js/lib/heatmap'),       // the origin-destination matrix
  require('plotly.js/lib/scattermap'),    // facilities, flow lines (MapLibre, no tiles)
  require('plotly.js/lib/choroplethmap'), // regions
]);
window.Plotly = Plotly;
