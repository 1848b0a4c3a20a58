// Clientside callbacks of `/`: pure view changes that need no server round trip (a date step is the most frequent
// interaction; doing it here saves a request before the views can even start to follow).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  dashboard: {
    // The date after a control moved: prev/next a day, the slider (an index from the first day), a click on the
    // trend, or the dropdown itself; kept inside the range the dropdown offers. Returns [date, slider index].
    syncDate: function (current, slider, _prev, _next, click, options) {
      const nu = window.dash_clientside.no_update;
      if (!options || !options.length) { return [nu, nu]; }
      const DAY = 86400000;
      const toMs = (iso) => Date.parse(iso.slice(0, 10) + 'T00:00:00Z');
      const end = toMs(options[0].value), start = toMs(options[options.length - 1].value);  // newest first
      const trigger = window.dash_clientside.callback_context.triggered_id;
      let day = current ? toMs(current) : end;
      if (trigger === 'date-prev') { day -= DAY; }
      else if (trigger === 'date-next') { day += DAY; }
      else if (trigger === 'date-slider' && slider !== null && slider !== undefined) { day = start + slider * DAY; }
      else if (trigger === 'trend-chart' && click && click.points && click.points.length) {
        day = toMs(String(click.points[0].x));
      }
      day = Math.min(Math.max(day, start), end);
      const iso = new Date(day).toISOString().slice(0, 10);
      const index = Math.round((day - start) / DAY);
      return [iso === current ? nu : iso, index === slider ? nu : index];
    },
  },
});

// The flow views sit below the fold on a 1080p screen. Their callbacks follow region and date only while the
// section is on screen (and catch up when it scrolls in): four more charts, one of them a second WebGL map,
// redrawn on every date step would otherwise hold up the main map's redraw by more than a second.
(function watchFlowsSection() {
  let visible = null;
  const start = () => {
    const section = document.querySelector('section.flows');
    if (!section || !window.dash_clientside.set_props) { return false; }
    new IntersectionObserver((entries) => {
      const now = entries[entries.length - 1].isIntersecting;
      if (now !== visible) {
        visible = now;
        window.dash_clientside.set_props('flows-visible', {data: now});
      }
    }).observe(section);
    return true;
  };
  // The page is drawn by React after this script runs, and again on every visit to `/` within the app.
  let watched = null;
  setInterval(() => {
    const section = document.querySelector('section.flows');
    if (section && section !== watched) { visible = null; if (start()) { watched = section; } }
  }, 250);
})();
