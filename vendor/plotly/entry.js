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
// Said to the page's scripts before any chart is drawn: dcc.Graph draws once this script has run, and
// assets/dashboard.js schedules the first load's charts below the fold (chartsBelowTheFold).
window.dispatchEvent(new Event('plotly-loaded'));

// MapLibre's worker (it parses and tiles the boundary files of every map) starts while the page loads, not when the
// first map is drawn: its start-up held up the first load's map on 2 cores. The same module and worker source as
// plotly's own (src/plots/map/map.js points MapLibre at it on the first map; the pool started here is kept).
var maplibregl = require('maplibre-gl/dist/maplibre-gl.mjs');
var workerSource = require('plotly.js/build/maplibre_worker');
maplibregl.setWorkerUrl(URL.createObjectURL(new Blob([workerSource], {type: 'text/javascript'})));
// Two workers, not MapLibre's one: a region change re-tiles the units, the counties and the background at the new
// zoom, and two sources tile side by side (map redrawn ~470 -> ~330 ms in the browser, 2 cores).
maplibregl.setWorkerCount(2);
maplibregl.prewarm();
