// The first draw of a page shows its controls with their values.
// dcc.Dropdown and dcc.Slider are lazy React components: their code is in the page (app.py EAGER_CHUNKS), but the
// first time React draws one it is not yet resolved, so it suspends and draws nothing there; React shows it in a later
// pass, and, while any other part of the page is still suspended (the charts wait for plotly.js), holds that pass
// back for up to half a second (React 18's throttle on revealing suspended content). On `/` the KPIs showed at once
// and the region and date they belong to ~0.3-0.5 s later.
// Drawing each once, here, into a detached root while the page waits for its layout (the component suspends, which
// starts resolving it, and the root is dropped), resolves them before Dash's first draw, which then shows them at
// once. plotly.js itself is not touched: dcc.Graph loads it when a chart is first drawn (app.py PLOTLY_JS_URL).
window.addEventListener('DOMContentLoaded', () => {
  const dcc = window.dash_core_components;
  const {React, ReactDOM} = window;
  if (!dcc || !React || !ReactDOM || !ReactDOM.createRoot || !ReactDOM.flushSync) { return; }
  const props = {id: 'first-draw', options: [], value: null, min: 0, max: 1, setProps: () => {}};
  ['Dropdown', 'Slider'].forEach((name) => {
    if (!dcc[name]) { return; }
    const root = ReactDOM.createRoot(document.createElement('div'));
    try {
      ReactDOM.flushSync(() => root.render(React.createElement(dcc[name], props)));
    } catch (e) {  // nothing is lost: Dash draws the component as it would have
    }
    root.unmount();
  });
});
