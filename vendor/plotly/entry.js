// The trace types the dashboard draws, and nothing else: the full plotly.js costs 1.44 MB gzip on the first load,
// this bundle about 0.92 MB. Add a trace here (and rebuild) before using a new trace type in figures/.
var Plotly = require('plotly.js/lib/core');
Plotly.register([
  require('plotly.js/lib/bar'),           // scatter comes with the core
  require('plotly.js/lib/heatmap'),       // the origin-destination matrix
  require('plotly.js/lib/scattermap'),    // facilities, flow lines (MapLibre, no tiles)
  require('plotly.js/lib/choroplethmap'), // regions
  require('plotly.js/lib/densitymap'),    // many facility points at scale
]);
window.Plotly = Plotly;
