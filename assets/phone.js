// Phones (issue 20): the 筛选与工具 button of `/` opens and closes the controls panel. It only flips the button's
// aria-expanded; assets/style.css (the phone block) hides the panel while that is "false". On a desktop the button is
// not shown and the panel is always open. No server round trip, and Dash never re-renders the button (no callback
// writes to it), so the state stays as the user left it.
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element && event.target.closest('#controls-toggle');
  if (!button) { return; }
  const open = button.getAttribute('aria-expanded') !== 'true';
  button.setAttribute('aria-expanded', open ? 'true' : 'false');
  if (open) {  // bring the panel's first control into view below the button
    const panel = document.getElementById(button.getAttribute('aria-controls'));
    if (panel && panel.scrollIntoView) { panel.scrollIntoView({block: 'nearest'}); }
  }
});

// Phones: the server sets the map's view to fit the region into a 900x640 map (figures/maps.py view_for), which on a
// phone's narrower map cuts off the north and south of the province, or the sides of a city. When the map shows
// exactly that view (a new figure, a new region), it is refitted to the map's own size, and again when the map
// changes size; a view the user zoomed or panned to is left alone, and with the figure's uirevision plotly keeps the
// refitted view through later updates.
// Nothing happens above 600 px wide: the desktop and the wall keep the server's view.
const PHONE_WIDTH = 600;
function fitView(bounds, width, height) {  // figures/maps.py view_for, in the browser
  const [minLon, minLat, maxLon, maxLat] = bounds;
  const merc = (lat) => Math.log(Math.tan(Math.PI / 4 + lat * Math.PI / 360));
  const lonSpan = Math.max(maxLon - minLon, 0.05), ySpan = Math.max(merc(maxLat) - merc(minLat), 0.001);
  const zoom = Math.min(Math.log2(width / 512 * 360 / lonSpan), Math.log2(height / 512 * 2 * Math.PI / ySpan)) - 0.15;
  const lat = Math.atan(Math.sinh((merc(maxLat) + merc(minLat)) / 2)) * 180 / Math.PI;
  return {center: {lon: (minLon + maxLon) / 2, lat: lat}, zoom: zoom};
}
function fitMapToPhone(gd) {
  const layout = gd.layout, full = gd._fullLayout;
  const bounds = layout && layout.meta && layout.meta.bounds, view = layout && layout.map;
  if (window.innerWidth > PHONE_WIDTH || !window.Plotly || !bounds || !view || !view.center || !full || !full.map) {
    return;
  }
  const same = (a) => a && Math.abs(view.zoom - a.zoom) < 0.01 && Math.abs(view.center.lon - a.center.lon) < 1e-4
    && Math.abs(view.center.lat - a.center.lat) < 1e-4;
  // the server's view, or the one fitted here before the map changed size (the phone turned, the address bar hid)
  if (!same(fitView(bounds, 900, 640)) && !same(gd._phoneFitted)) { return; }  // a view someone chose
  const domain = full.map.domain;
  const fit = fitView(bounds, full._size.w * (domain.x[1] - domain.x[0]), full._size.h * (domain.y[1] - domain.y[0]));
  gd._phoneFitted = fit;
  if (Math.abs(fit.zoom - view.zoom) > 0.01) {
    gd._phoneFittedAt = Date.now();
    window.Plotly.relayout(gd, {'map.center': fit.center, 'map.zoom': fit.zoom});
  }
}
// A relayout made while MapLibre is still loading can leave the map at the old view with the new one in the layout:
// for 15 seconds after a fit, and never while the map moves under a finger, the map is moved to what the layout
// says.
function followLayout(gd) {
  const sub = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot, view = gd.layout.map;
  const fitted = gd._phoneFitted;
  if (!sub || !sub.map || !fitted || !view || !view.center || sub.dragging || sub.wheeling || sub.map.isMoving()
      || Date.now() - gd._phoneFittedAt > 15000 || Math.abs(view.zoom - fitted.zoom) > 0.01
      || Math.abs(sub.map.getZoom() - view.zoom) < 0.01) { return; }
  sub.map.jumpTo({center: [view.center.lon, view.center.lat], zoom: view.zoom});
}
setInterval(() => {  // the map's plotly div appears (and is replaced on a new page) after the figure arrives
  if (window.innerWidth > PHONE_WIDTH) { return; }
  const gd = document.querySelector('#region-map .js-plotly-plot');
  if (gd && gd.on && !gd._phoneFit) {
    gd._phoneFit = true;
    gd.on('plotly_afterplot', () => fitMapToPhone(gd));
  }
  if (gd && gd._phoneFit) {
    fitMapToPhone(gd);
    followLayout(gd);
  }
}, 300);
