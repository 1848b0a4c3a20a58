// Clientside callbacks of `/`: pure view changes that need no server round trip (a date step is the most frequent
// interaction; doing it here saves a request before the views can even start to follow).
// The page holds the map's day values (the store `map-days`: region|metric -> views/maps.py map_days, made on the
// server by the same code as the map: every day of the range, or a window of blocks of days on a long range; and
// `units`: each county or unit -> the region whose map it shows). A date step recolours the drawn map from them, a
// region change recolours and zooms it (its `view`): one Plotly.update of the traces the values name (by index and
// key, never by position), no request. The drawn figure's data is the same object Dash keeps, so later partial
// updates from the server still apply to what is shown. The rest of the page (`view-day`, `view-region`: table,
// judgement, trend, notes) follows once the map is drawn, or after 1.5 s whatever happens.
// The MapLibre map plotly drew in a graph div (undefined until drawn).
const mapOf = (gd) => gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot
  && gd._fullLayout.map._subplot.map;

function entryOf(store, region, metric) {
  const units = (store && store.units) || {};
  return store ? store[(units[region] || region) + '|' + metric] : undefined;
}

const sameArray = (a, b) => (a === b) || (a !== undefined && b !== undefined && a !== null && b !== null
  && a.length === b.length && Array.prototype.every.call(a, (x, i) => JSON.stringify(x) === JSON.stringify(b[i])));
const sameValues = (drawn, t) => sameArray(drawn.locations, t.locations) && sameArray(drawn.z, t.z)
  && (t.customdata === undefined || sameArray(drawn.customdata, t.customdata));

let recoloured = null;  // the day last recoloured here (or about to be: see recolourSoon)
// False when it cannot (no day values for the day, or the map still loading).
function recolourMap(day, entry, view, region) {
  const gd = document.querySelector('#region-map .js-plotly-plot');
  const values = entry && entry.days[day] !== undefined && entry.frames[entry.days[day]];
  const given = values && (view ? [...values.traces, view.trace] : values.traces);
  if (!gd || !gd.data || !given || given.some((t) => t.index >= gd.data.length) || !window.Plotly) {
    return false;
  }
  // Only the traces whose values change: MapLibre re-tiles the source of every trace it is given (a region
  // change leaves the units as they were, a date step at province level the empty county traces).
  // At least one, so that plotly redraws and says so (plotly_afterplot: the views below follow on it).
  const changed = given.filter((t) => !sameValues(gd.data[t.index], t));
  const traces = changed.length ? changed : given.slice(0, 1);
  const update = {locations: [], z: [], customdata: []};
  traces.forEach((t) => {  // undefined leaves a trace's attribute as it is (the outline has no hover text)
    update.locations.push(t.locations); update.z.push(t.z); update.customdata.push(t.customdata);
  });
  let done = false;
  const follow = () => {
    if (done) { return; }
    done = true;
    if (view) { window.dash_clientside.set_props('view-region', {data: region}); }
    else { window.dash_clientside.set_props('view-day', {data: day}); }
  };
  // The views below follow once the map is drawn and MapLibre has loaded what it draws, a frame later: their
  // answers arrive within tens of milliseconds and redrawing them would hold up the map's last frames.
  gd.once('plotly_afterplot', () => {
    const map = mapOf(gd);
    if (map && !map.loaded()) { map.once('idle', () => requestAnimationFrame(follow)); }
    else { requestAnimationFrame(() => setTimeout(follow, 0)); }
  });
  setTimeout(follow, 1500);
  try {
    // the day's range, in the colours drawn (the palette, figures/theme.py, is the server's and does not change by day)
    const drawn = gd.layout.coloraxis && gd.layout.coloraxis.colorscale;
    const axis = drawn ? Object.assign({}, values.coloraxis, {colorscale: drawn}) : values.coloraxis;
    window.Plotly.update(gd, update, Object.assign({coloraxis: axis}, view ? view.layout : {}),
      traces.map((t) => t.index));
  } catch (e) {  // not ready to take it
    done = true;
    return false;
  }
  keepInFigure(gd, traces.map((t) => t.index));
  if (!view) { recoloured = day; }
  return true;
}

// The page's first map comes without its national background and its colour bar (views/maps.py background_later):
// both shown here once the map is drawn, in what is drawn and in the figure Dash keeps (a redraw of that figure keeps
// them). A redraw, not a relayout: a relayout is reported as a change of the map's view (relayoutData), which the page
// answers.
function showBackground(gd) {
  const layers = gd && gd.layout && gd.layout.map && gd.layout.map.layers;
  const axis = gd && gd.layout && gd.layout.coloraxis;
  const barHidden = axis && axis.showscale === false;
  if (!layers || !window.Plotly || !(barHidden || layers.some((layer) => layer.visible === false))) { return; }
  const node = window.dash_component_api && window.dash_component_api.getLayout('region-map');
  const kept = node && node.props && node.props.figure && node.props.figure.layout;
  [layers, (kept && kept.map && kept.map.layers) || []].forEach((list) => list.forEach((layer) => {
    if (layer.visible === false) { layer.visible = true; }
  }));
  if (barHidden) {
    [axis, kept && kept.coloraxis].forEach((a) => { if (a) { delete a.showscale; } });
  }
  window.Plotly.redraw(gd);
}

// dcc.Graph draws its `figure` prop again after every pan or zoom (on plotly_relayout it writes the map's new view
// into the prop, and a new prop is plotted). The prop is the server's last figure: what the page drew since, another
// day or region, would be undone (the map went back to the page's first region when a phone refitted its view). So
// what is drawn is written into the prop as well, in place: nothing is re-rendered or asked for.
function keepInFigure(gd, indices) {
  const api = window.dash_component_api;
  const node = api && api.getLayout && api.getLayout('region-map');
  const figure = node && node.props && node.props.figure;
  if (!figure || !figure.data || !figure.layout) { return; }
  indices.forEach((i) => {
    const trace = figure.data[i];
    if (!trace) { return; }
    ['locations', 'z', 'customdata'].forEach((key) => {
      if (gd.data[i][key] !== undefined) { trace[key] = gd.data[i][key]; }
    });
  });
  const drawn = gd.layout;
  ['coloraxis', 'meta', 'uirevision'].forEach((key) => {
    if (drawn[key] !== undefined) { figure.layout[key] = JSON.parse(JSON.stringify(drawn[key])); }
  });
  if (drawn.map) {
    figure.layout.map = Object.assign({}, figure.layout.map, {center: Object.assign({}, drawn.map.center), zoom: drawn.map.zoom});
  }
}

// The map's redraw runs after the next frame is painted: the KPI row of the day or region (kpiRow, a few DOM
// nodes) shows in that frame, and the map's (tens of milliseconds of WebGL work) in the frames after, for the latest
// change asked only. False when the values are not held (the server is asked then).
let soon = null;
function redrawSoon(day, entry, view, missed, region) {
  const gd = document.querySelector('#region-map .js-plotly-plot');
  if (!entry || entry.days[day] === undefined || !gd || !gd.data) { return false; }
  const first = soon === null;
  soon = [day, entry, view, missed, region];
  if (!view) { recoloured = day; }
  if (first) {
    const run = () => {
      const [d, e, v, m, r] = soon;
      soon = null;
      if (!recolourMap(d, e, v, r)) { m(); }  // it could not after all: the server draws it
    };
    // A region change: in the frame after the next (the KPI row is painted by then), not behind the page's other
    // tasks of the change (~40 ms of them: a timeout waited for them). A date step has few: right after the frame.
    if (view) { requestAnimationFrame(() => requestAnimationFrame(run)); }
    else { requestAnimationFrame(() => setTimeout(run, 0)); }
  }
  return true;
}

// A day the page does not hold: the server draws the map (`map-day-missed`), and the rest of the page follows once
// that map is drawn (or after 1.5 s), to the day the controls show then: asked at once, their ~7 requests came
// before the map's on the server's threads and its answer waited behind them (0.4-0.6 s at years of days).
function dayMissed(day) {
  recoloured = null;
  window.dash_clientside.set_props('map-day-missed', {data: {day: day, at: Date.now()}});
  followAfterMap();
}
function followAfterMap() {
  const gd = document.querySelector('#region-map .js-plotly-plot');
  let done = false;
  const follow = () => {
    if (done) { return; }
    done = true;
    const shown = window.dash_component_api.getLayout('date-select').props.value;
    const view = window.dash_component_api.getLayout('view-day').props.data;
    if (shown && shown !== view) { window.dash_clientside.set_props('view-day', {data: shown}); }
  };
  if (gd && gd.once) { gd.once('plotly_afterplot', () => requestAnimationFrame(() => setTimeout(follow, 0))); }
  setTimeout(follow, 1500);
}
const recolourSoon = (day, store, region, metric) => redrawSoon(day, entryOf(store, region, metric), null,
  () => dayMissed(day));

let lastWanted = null, prefetched = {}, dayAhead = null;

// The day values the page asks for: the view's own (every day, or the window around the slider's block on a
// long range); the province's and every unit's, so that a region change finds its values: every day, a moment
// after the page has settled, once the view's own are held, when the range is held whole; else the day shown (a
// window of days for each region would be megabytes) each time the slider rests. [[region, metric, block], ...], or
// no_update.
function daysWanted(region, metric, index, store, plan, version) {
  const nu = window.dash_clientside.no_update;
  if (!plan || !region || !metric) { return nu; }
  const block = plan.whole ? null : Math.floor((index || 0) / plan.size);
  const lacks = (held) => { const e = entryOf(held, region, metric); return !e || e.block !== block; };
  // Asked from outside the callbacks: `map-days` is wantMapDays's input and the answer's output, and Dash does
  // not run a callback again on what its own chain changed. What is held is read when asked. The view's own region
  // is asked for its block, never a day (a one-day answer would replace its window), and in the same request when
  // it still lacks it (`withOwn`): a new request replaces one Dash has not answered yet.
  const askRest = (asked, missing, withOwn = false) => {
    const held = window.dash_component_api.getLayout('map-days').props.data;
    const rest = plan.regions.filter((r) => r !== region && missing(entryOf(held, r, metric)));
    const want = [...(withOwn && lacks(held) ? [[region, metric, block]] : []), ...rest.map((r) => [r, metric, asked])];
    if (want.length) { window.dash_clientside.set_props('map-days-wanted', {data: want}); }
  };
  if (!plan.whole) {  // a long range: once the slider rests 150 ms, one request for the view's own block (if it
    clearTimeout(dayAhead);  // lacks it) and the day shown for every other region (a region change soon after then
    dayAhead = setTimeout(function ask() {  // finds its unit's day); asked apart, each request replaced the other
      // not before the page's first map is drawn: the answer, handled in the middle of its drawing, held the map
      // up by ~70-90 ms at the scale set (its first date steps are recoloured once it comes, or drawn by the server)
      const first = window.dash_component_api.getLayout('map-drawn');
      if (first && first.props && first.props.data === false) { dayAhead = setTimeout(ask, 150); return; }
      const day = window.dash_component_api.getLayout('date-select').props.value;
      if (day) { askRest({day}, (e) => !e || e.days[day] === undefined, true); }
    }, 150);
    return nu;
  }
  if (lacks(store)) {
    const want = [[region, metric, block]];
    const key = JSON.stringify(want);
    if (key === lastWanted) { return nu; }
    lastWanted = key;
    return want;
  }
  const once = metric + '|' + version;  // a new batch replaces what the page held: asked anew
  if (!prefetched[once]) {
    prefetched[once] = true;
    const ask = () => askRest(null, (e) => !e);
    setTimeout(() => (window.requestIdleCallback ? window.requestIdleCallback(ask, {timeout: 2000}) : ask()), 2000);
  }
  return nu;
}

// "截至2020年2月15日24时": data/formatting.py as_of, for a day of a KPI book.
const asOf = (iso) => `截至${iso.slice(0, 4)}年${parseInt(iso.slice(5, 7), 10)}月${parseInt(iso.slice(8, 10), 10)}日24时`;

// The KPI row of a region on a day, from its book (views/kpis.py kpi_book): the five tiles, their changes, the
// region's name and the as-of line (12 outputs). A region whose book the page lacks is asked for (`kpi-book-wanted`);
// the row stays as it was until the book comes.
function kpiRow(region, day, books) {
  const out = new Array(12).fill(window.dash_clientside.no_update);
  const book = books && books[region];
  if (!day) { return out; }
  if (!book) { window.dash_clientside.set_props('kpi-book-wanted', {data: region}); return out; }
  const index = Math.round((Date.parse(day + 'T00:00:00Z') - Date.parse(book.first + 'T00:00:00Z')) / 86400000);
  const row = book.rows[book.days[index]];
  return row ? [...row, book.region, asOf(day)] : out;
}

// The trend as of the day shown: the server's figure holds every day (views/trends.py shared_trend), and the
// page hides the days after the one shown, so that a date step needs no new figure. The full traces of each figure
// (by its layout.meta.figure_key) are kept on the chart; each step restyles them to the days up to the day and moves
// the notes (first case, peak, last new case of the day's wave, layout.meta.gaps between waves) to what was known.
// The selected-day marker: the first shape; in the small multiples, one per chart, all on the same day. It is moved
// where plotly drew it (its line's x), in the layout Dash and plotly share too: a relayout of a shape redraws the
// whole chart (~0.15 s at years of days, on every date step). Plotly redraws it where it is not a plain line.
function markDay(gd, day, view) {
  const shapes = gd && gd.layout && gd.layout.shapes;
  if (!shapes || !shapes.length || !window.Plotly) { return false; }
  const old = shapes[0].x0;
  if (String(old).slice(0, 10) === day) { return true; }
  const moved = shapes.map((shape, i) => i).filter((i) => i === 0
    || (view === 'units' && shapes[i].x0 === old && shapes[i].x1 === old));
  if (!moved.every((i) => moveLine(gd, i, day))) {
    const update = {};
    moved.forEach((i) => { update[`shapes[${i}].x0`] = day; update[`shapes[${i}].x1`] = day; });
    window.Plotly.relayout(gd, update);
  }
  return true;
}

const VERTICAL_LINE = /^M[-\d.e]+,([-\d.e]+)L[-\d.e]+,([-\d.e]+)$/;
// A vertical line shape moved to a day on its x axis, in the drawn chart and its layout; false when it is not drawn
// as one line ("M x,y0 L x,y1").
function moveLine(gd, i, day) {
  const full = gd._fullLayout && gd._fullLayout.shapes && gd._fullLayout.shapes[i];
  const axis = full && gd._fullLayout[String(full.xref).replace(/^x/, 'xaxis')];
  const paths = gd.querySelectorAll(`.shapelayer path[data-index="${i}"]`);
  const drawn = paths.length === 1 && VERTICAL_LINE.exec(paths[0].getAttribute('d') || '');
  if (!drawn || !axis || !axis.l2p || full.type !== 'line') { return false; }
  const px = axis._offset + axis.l2p(axis.d2l(day));
  if (!Number.isFinite(px)) { return false; }
  paths[0].setAttribute('d', `M${px.toFixed(2)},${drawn[1]}L${px.toFixed(2)},${drawn[2]}`);
  full.x0 = full.x1 = day;
  gd.layout.shapes[i].x0 = gd.layout.shapes[i].x1 = day;
  return true;
}

// The clip redraws the chart: after the frames that show the day's KPIs and map, once for the latest day asked (a
// new forecast's values are drawn by the same redraw: `redraw`).
let pendingClip = null, redrawDue = false;
function laterClip(gd, day, redraw = false) {
  const first = pendingClip === null;
  pendingClip = day;
  redrawDue = redrawDue || redraw;
  if (!first) { return; }
  const run = () => {
    const d = pendingClip, r = redrawDue;
    pendingClip = null; redrawDue = false;
    if (!clipTrend(gd, d, r) && r) { window.Plotly.redraw(gd); }
  };
  if (window.requestIdleCallback) { window.requestIdleCallback(run, {timeout: 600}); } else { setTimeout(run, 250); }
}

const monthDay = (iso) => `${parseInt(iso.slice(5, 7), 10)}月${parseInt(iso.slice(8, 10), 10)}日`;
function clipTrend(gd, day, redraw = false) {
  const meta = gd && gd.layout && gd.layout.meta;
  if (!meta || !meta.figure_key || !gd._fullData || !window.Plotly) { return false; }
  if (!gd._asOf || gd._asOf.key !== meta.figure_key) {
    gd._asOf = {key: meta.figure_key, traces: gd._fullData.map((t) => ({
      x: Array.from(t.x || []), y: Array.from(t.y || []), forecast: Boolean(t.meta && t.meta.forecast),
      text: Array.isArray(t.text) ? Array.from(t.text) : null}))};
  }
  // in place, then one redraw: a Plotly.restyle would make dcc.Graph rebuild its figure prop and draw it again whole
  let changed = redraw;
  gd._asOf.traces.forEach((t, i) => {
    if (t.forecast) { return; }  // the fan lies after the day by design (showForecast puts the day's own in)
    const keep = t.x.map((x) => String(x).slice(0, 10) <= day);
    const x = t.x.filter((_, k) => keep[k]);
    const now = gd.data[i].x;
    if (now && now.length === x.length && String(now[now.length - 1]) === String(x[x.length - 1])) { return; }
    changed = true;
    gd.data[i].x = x; gd.data[i].y = t.y.filter((_, k) => keep[k]);
    if (t.text) { gd.data[i].text = t.text.filter((_, k) => keep[k]); }
  });
  // the notes follow in place too, and one redraw draws it all (a relayout of a note redraws the whole chart, each
  // one: ~0.15 s at years of days)
  const notes = (gd.layout.annotations || []);
  const edit = (i, key, value) => {
    const now = key === 'visible' ? notes[i].visible !== false : notes[i][key];  // plotly's default: shown
    if (now !== value) { notes[i][key] = value; changed = true; }
  };
  const named = {};
  notes.forEach((a, i) => {
    if (a.name && a.name.startsWith('gap:')) { edit(i, 'visible', a.name.slice(4) <= day); }  // not known yet
    else if (a.name) { named[a.name] = i; }
  });
  const bars = gd._asOf.traces[0];  // the single-region view draws the daily new cases first
  if (named.first !== undefined && bars) {
    const waveStart = (meta.gaps || []).map((g) => g[1]).filter((end) => end < day).pop() || '';
    let first = null, peak = null, last = null;
    bars.x.forEach((x, k) => {
      const d = String(x).slice(0, 10), v = bars.y[k];
      if (d > day || d < waveStart || !(v > 0)) { return; }
      if (first === null) { first = d; }
      if (peak === null || v > peak[1]) { peak = [d, v]; }
      last = d;
    });
    const put = (name, x, text) => {
      if (named[name] === undefined) { return; }
      edit(named[name], 'visible', x !== null);
      if (x !== null) { edit(named[name], 'x', x); edit(named[name], 'text', text); }
    };
    put('first', first, first && `首例 ${monthDay(first)}`);
    const most = peak && (meta.per100k ? `${peak[1].toFixed(2)} 例/10万人` : `${Math.round(peak[1])} 例`);
    put('peak', peak && peak[0], peak && `单日最多 ${most}（${monthDay(peak[0])}）`);
    put('last', last !== (peak && peak[0]) ? last : null, last && `最近新增 ${monthDay(last)}`);
  }
  if (changed) { window.Plotly.redraw(gd); }  // nothing to hide (the latest day, a step back and forth): no redraw
  return true;
}

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  dashboard: {
    // The address of a view (callbacks/dashboard.py, the URL): every part in the controls' order, lists joined by
    // commas, and a part left out when it holds its default (layouts/view_state.py URL_DEFAULTS), as `parse` reads.
    viewQuery: function (view, defaults) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(view)) {
        const text = Array.isArray(value) ? value.join(',') : (value == null ? '' : String(value));
        if (text !== '' && !(key in defaults && String(defaults[key]) === text)) { params.set(key, text); }
      }
      return '?' + params.toString();
    },
    // The KPI row after a region change or a book's arrival (a date step shows it from syncDate).
    showKpis: function (region, books, day) {
      return kpiRow(region, day, books);
    },

    // A region change: the drawn map takes the region's view (its unit's counties coloured, the outline, the
    // centre and zoom) from the day values held, after the KPI row is painted. The server draws the map instead
    // (`map-region-missed`) when they are not held or facility layers are shown (they differ by region).
    pickRegion: function (region, store, metric, layers, day, index, plan, version) {
      const nu = window.dash_clientside.no_update;
      const want = daysWanted(region, metric, index, store, plan, version);  // (wantMapDays: not woken by a region)
      if (want !== nu) { window.dash_clientside.set_props('map-days-wanted', {data: want}); }
      const entry = entryOf(store, region, metric);
      const gd = document.querySelector('#region-map .js-plotly-plot');
      const follow = () => window.dash_clientside.set_props('view-region', {data: region});
      const missed = () => {
        follow();
        window.dash_clientside.set_props('map-region-missed', {data: {region, at: Date.now()}});
      };
      const here = !(layers && layers.length) && entry && entry.view;
      if (here && gd && gd.layout && gd.layout.uirevision === entry.view.layout.uirevision) {
        follow();  // a county of the unit shown: the same map
        return nu;
      }
      if (here && redrawSoon(day, entry, entry.view, missed, region)) { return nu; }
      follow();
      return {region: region, at: Date.now()};
    },

    // What the page lacks after a metric or `map-days` change, and on the page's first pass (daysWanted). The region
    // and the slider are read, not listened to: a region change or a date step asks from its own callback (pickRegion,
    // syncDate), as a Dash pass of this one came in the middle of the map's redraw (~10-20 ms each on 2 cores).
    wantMapDays: function (metric, store, region, index, plan, version) {
      return daysWanted(region, metric, index, store, plan, version);
    },

    // The date after a control moved: prev/next a day, the slider (an index from the first day), a click on the
    // trend, or the dropdown itself (a pick, or playback); kept inside the range the dropdown offers.
    // Returns [date, slider index, the KPI row's 12 outputs]. The date step is all done from this one Dash pass:
    // the KPI row, and the map's recolour after the frame that shows it (recolourSoon) or the server's map when the
    // page lacks the day (dayMissed). A second pass on `date-select` cost each step ~15 ms before the map.
    syncDate: function (current, slider, _prev, _next, click, options, store, region, metric, plan, version, books) {
      const nu = window.dash_clientside.no_update;
      const none = new Array(12).fill(nu);
      if (!options || !options.length) { return [nu, nu, ...none]; }
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
      const shown = iso !== current || trigger === 'date-select';  // a new day on screen (the dropdown set it)
      if (shown && iso !== recoloured && !recolourSoon(iso, store, region, metric)) { dayMissed(iso); }
      // a long range: the block of the day shown and the day for every region, asked once the slider rests
      if (plan && !plan.whole) { daysWanted(region, metric, index, store, plan, version); }
      const kpis = shown ? kpiRow(region, iso, books) : none;
      return [iso === current ? nu : iso, index === slider ? nu : index, ...kpis];
    },

    // The trend follows the day shown (after the map) on the drawn chart: its marker, and nothing after the day.
    stepTrend: function (day, view) {
      const gd = document.querySelector('#trend-chart .js-plotly-plot');
      if (!markDay(gd, day, view)) { return window.dash_clientside.no_update; }
      laterClip(gd, day);
      return day;
    },

    // A trend figure from the server, once drawn, is clipped to the day shown (its key says it is drawn).
    clipNewTrend: function (figure, day, view) {
      const key = figure && figure.layout && figure.layout.meta && figure.layout.meta.figure_key;
      if (!key || !day) { return window.dash_clientside.no_update; }
      const attempt = (n) => {
        const gd = document.querySelector('#trend-chart .js-plotly-plot');
        const drawn = gd && gd.layout && gd.layout.meta && gd.layout.meta.figure_key === key && gd._fullData;
        // dcc.Graph may draw its own copy of the figure again (after a redraw changes the axes): the marker too
        if (drawn) { markDay(gd, day, view); laterClip(gd, day); }
        else if (n < 120) { requestAnimationFrame(() => attempt(n + 1)); }
      };
      attempt(0);
      return key;
    },

    // The forecast made on the day shown (views/trends.py forecast_values), put into the fan's traces of the
    // drawn trend in place (see clipTrend): a date step needs no new trend figure.
    showForecast: function (fan) {
      const gd = document.querySelector('#trend-chart .js-plotly-plot');
      if (!fan || !gd || !gd.data || !window.Plotly) { return window.dash_clientside.no_update; }
      let changed = false;
      gd.data.forEach((trace) => {
        const field = trace.meta && trace.meta.forecast;
        if (!field || !fan[field]) { return; }
        trace.x = fan.x; trace.y = fan[field]; changed = true;
      });
      // drawn with the day's clip, in one redraw of the chart (the marker holds the day shown now)
      const shapes = gd.layout && gd.layout.shapes;
      if (changed) { laterClip(gd, (shapes && shapes.length && String(shapes[0].x0).slice(0, 10)) || fan.day, true); }
      return fan.day;
    },

    // Play/pause. Starting on the last day starts again from the first. Returns the tick's disabled flag and
    // interval, the button's text and aria-pressed, and the date when it jumps back to the start.
    togglePlay: function (_clicks, speed, disabled, current, options) {
      const nu = window.dash_clientside.no_update;
      const interval = Math.round(1000 / (speed || 2));
      if (window.dash_clientside.callback_context.triggered_id === 'play-speed') {
        return [nu, interval, nu, nu, nu];
      }
      const playing = disabled;  // it was stopped: now it plays
      const first = options && options.length ? options[options.length - 1].value : null;
      const last = options && options.length ? options[0].value : null;
      const restart = playing && current === last && first ? first : nu;
      return [!playing, interval, playing ? '‖ 暂停' : '▶ 播放', playing ? 'true' : 'false', restart];
    },

    // One step of the playback: the next day, once the page has caught up with the current one (the map drawn,
    // so the views below follow it: `view-day`), so a slow machine plays slower instead of queueing days.
    // At the last day it stops.
    playStep: function (_n, current, options, viewDay) {
      const nu = window.dash_clientside.no_update;
      if (!options || !options.length || !current) { return nu; }
      const last = options[0].value;
      const d = new Date(Date.parse(current + 'T00:00:00Z'));
      const caughtUp = viewDay === current;
      const waited = (window._playWaited = caughtUp ? 0 : (window._playWaited || 0) + 1);
      if (!caughtUp && waited < 8) { return nu; }
      if (current >= last) {
        window.dash_clientside.set_props('play-tick', {disabled: true});
        window.dash_clientside.set_props('play-toggle', {children: '▶ 播放', 'aria-pressed': 'false'});
        return nu;
      }
      return new Date(d.getTime() + 86400000).toISOString().slice(0, 10);
    },
  },
});

// The first load's charts below the fold after the map. On `/` the flows, the resources panel and their charts are
// below a 1080p screen, and drawing them (~80 ms of plotly on 2 cores, and their first paint) came between the map's
// first draw and its boundaries: the map was ~100 ms later. Until the map is drawn (`release`, from
// afterTheFirstMap, after 2.5 s at most) or the reader scrolls, a chart whose top is below the window is drawn
// later: its Plotly.react waits, with the latest figure dcc.Graph gave it. Only the first load of a visit holds.
const chartsBelowTheFold = (function () {
  const held = new Map();  // chart -> {args, done: [[resolve, reject]]}
  let holding = true;
  const release = () => {
    if (!holding) { return; }
    holding = false;
    held.forEach(({args, done}, gd) => {
      const drawn = gd.isConnected ? window.Plotly.react.apply(window.Plotly, args) : Promise.resolve(gd);
      drawn.then((value) => done.forEach(([resolve]) => resolve(value)),
        (error) => done.forEach(([, reject]) => reject(error)));
    });
    held.clear();
  };
  const belowTheFold = (gd) => document.getElementById('region-select') && document.getElementById('region-map')
    && gd && gd.closest && !gd.closest('#region-map') && gd.getBoundingClientRect().top >= window.innerHeight;
  window.addEventListener('plotly-loaded', () => {
    const plotly = window.Plotly;
    const react = plotly.react;
    plotly.react = function (gd) {
      if (!holding || !belowTheFold(gd)) { return react.apply(plotly, arguments); }
      const args = arguments;
      return new Promise((resolve, reject) => {
        const wait = held.get(gd) || {done: []};
        held.set(gd, {args, done: wait.done.concat([[resolve, reject]])});
      });
    };
  });
  window.addEventListener('scroll', release, {once: true, passive: true});
  return {release};
})();

// What the first load of `/` holds back until its map is drawn (or 2.5 s, whatever happens): the trend's figure
// (every day of the range, a third of a second to draw on a PC without a GPU), asked for on `map-drawn`; the map's
// national background and colour bar (showBackground); the charts below the fold (chartsBelowTheFold).
(function afterTheFirstMap() {
  let seen = null;
  setInterval(() => {
    const el = document.getElementById('region-map');
    // `/` only (the wall has a region map and no trend to hold back)
    if (!el || el === seen || !document.getElementById('region-select') || !window.dash_clientside.set_props) {
      return;
    }
    seen = el;
    let done = false;
    const drawn = () => {
      if (done || seen !== el) { return; }
      done = true;
      try { window.dash_clientside.set_props('map-drawn', {data: true}); } catch (e) { /* the page has gone */ }
      showBackground(el.querySelector('.js-plotly-plot'));
      chartsBelowTheFold.release();
    };
    setTimeout(drawn, 2500);
    // Drawn = the choropleth's layers are in the map and MapLibre has every tile of the view. Plotly's first
    // afterplot (and MapLibre's first 'idle', before any source is added) come earlier, and a trend drawn then took
    // the main thread from the map's last frames.
    const hook = () => {
      const gd = el.querySelector('.js-plotly-plot');
      const map = mapOf(gd);
      if (map && gd.data && gd.data.length && map.loaded() && map.getStyle().layers.some((l) => l.type === 'fill')) {
        requestAnimationFrame(drawn);
        return;
      }
      setTimeout(hook, 50);
    };
    hook();
  }, 100);
})();

// The flow views and the resources panel sit below the fold on a 1080p screen. Their callbacks follow region and
// date only while the section is on screen (and catch up when it scrolls in): charts, tables and a second WebGL map
// each, redrawn on every date step, would otherwise hold up the main map's redraw and the page's first load.
(function watchSectionsBelowTheFold() {
  const sections = {'section.flows': 'flows-visible', 'section.resources': 'resources-visible'};
  const watched = {};
  const watch = (selector, store) => {
    const section = document.querySelector(selector);
    if (!section || section === watched[selector] || !window.dash_clientside.set_props) { return; }
    watched[selector] = section;
    // from what the store holds (false in the layout): the observer's first report, below the fold, changes nothing,
    // and a set_props costs Dash a pass over the page (~25 ms on 2 cores) in the middle of the first map's drawing
    const node = window.dash_component_api && window.dash_component_api.getLayout(store);
    let visible = node && node.props ? node.props.data : null;
    new IntersectionObserver((entries) => {
      const now = entries[entries.length - 1].isIntersecting;
      if (now !== visible) {
        visible = now;
        window.dash_clientside.set_props(store, {data: now});
      }
    }).observe(section);
  };
  // The page is drawn by React after this script runs, and again on every visit to `/` within the app.
  setInterval(() => Object.entries(sections).forEach(([selector, store]) => watch(selector, store)), 250);
})();
