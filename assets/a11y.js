// Accessibility corrections to what Dash 4.4's own components put in the page, made in the browser because the
// components take no ARIA properties. Each is a fix for something screen readers or keyboards get wrong, and
// tests/test_a11y.py (axe-core, WCAG 2.1 AA) fails without it:
// - dcc.Checklist / dcc.RadioItems render role="listbox" with role="option" labels around native checkboxes and
//   radios (a listbox of options that hold focusable inputs: "nested interactive", and the listbox has no name).
//   The native inputs already say everything: the container becomes a named group (radiogroup), the labels plain.
// - dcc.Dropdown puts an aria-hidden, focusable input in the Tab order in front of its button (for Safari) and
//   names the button by its value only. The button itself is made the Tab stop, named "label: value".
// - dcc.Slider's thumb (role="slider") and dcc.Upload's file input have no name.
// A group, slider or dropdown is named by the <label for=ID> of its component (a visually hidden one where the
// page shows no label) or by an element with the id ID-label, so a new control is covered by giving it a label.
(function a11yCorrections() {
  let labelCount = 0;

  function labelIdFor(id) {  // <label for=ID>, or an element with the id ID-label (a visible caption)
    if (!id) { return null; }
    const label = document.querySelector(`label[for="${CSS.escape(id)}"]`) || document.getElementById(`${id}-label`);
    if (!label) { return null; }
    if (!label.id) { label.id = `a11y-label-${++labelCount}`; }
    return label.id;
  }

  function setAttr(el, name, value) {
    if (el.getAttribute(name) !== value) { el.setAttribute(name, value); }
  }

  function fixOptionLists(root) {
    root.querySelectorAll('.dash-options-list[role="listbox"], .dash-options-list[data-a11y]').forEach((list) => {
      const radios = list.classList.contains('dash-radioitems');
      setAttr(list, 'role', radios ? 'radiogroup' : 'group');
      list.setAttribute('data-a11y', '1');
      const labelId = labelIdFor(list.id);
      if (labelId) { setAttr(list, 'aria-labelledby', labelId); }
      list.querySelectorAll('.dash-options-list-option').forEach((option) => {
        if (option.hasAttribute('role')) { option.removeAttribute('role'); }
        if (option.hasAttribute('aria-selected')) { option.removeAttribute('aria-selected'); }
      });
    });
  }

  function fixDropdowns(root) {
    root.querySelectorAll('.dash-dropdown-focus-target').forEach((dummy) => {
      if (dummy.tabIndex !== -1) { dummy.tabIndex = -1; }
      const button = dummy.nextElementSibling;
      if (!(button instanceof HTMLButtonElement)) { return; }
      if (!button.disabled && button.tabIndex !== 0) { button.tabIndex = 0; }
      // "label: value (count)", the value's parts in the order they show (the visible text is then part of the name)
      const labelId = labelIdFor(button.id);
      const parts = (button.getAttribute('aria-labelledby') || '').split(' ').filter((id) => id && id !== labelId);
      const shown = parts.map((id) => document.getElementById(id)).filter(Boolean)
        .sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1)).map((el) => el.id);
      const wanted = [labelId, ...shown].filter(Boolean).join(' ');
      if (wanted && button.getAttribute('aria-labelledby') !== wanted) { button.setAttribute('aria-labelledby', wanted); }
    });
  }

  function fixSliders(root) {
    root.querySelectorAll('[role="slider"]:not([aria-labelledby]):not([aria-label])').forEach((thumb) => {
      const holder = thumb.closest('[id]');
      const labelId = holder && labelIdFor(holder.id);
      if (labelId) { thumb.setAttribute('aria-labelledby', labelId); }
    });
  }

  function fixFileInputs(root) {
    root.querySelectorAll('input[type="file"]:not([aria-label])').forEach((input) => {
      const box = input.parentElement;
      const text = box ? box.textContent.trim() : '';
      input.setAttribute('aria-label', text || '选择文件');
    });
  }

  function fixAll() {
    fixOptionLists(document);
    fixDropdowns(document);
    fixSliders(document);
    fixFileInputs(document);
    refreshCaptions();
  }

  // React re-renders put some of these attributes back (aria-selected on a selection, the dropdown's tabindex on
  // blur): correct them again, at most once a frame.
  let queued = false;
  const observer = new MutationObserver(() => {
    if (queued) { return; }
    queued = true;
    requestAnimationFrame(() => { queued = false; fixAll(); });
  });
  function start() {
    fixAll();
    observer.observe(document.body, {subtree: true, childList: true, characterData: true,
                                     attributeFilter: ['role', 'aria-selected', 'tabindex', 'aria-labelledby']});
  }
  if (document.body) { start(); } else { document.addEventListener('DOMContentLoaded', start); }
})();

// A table's caption says what and when: the chart's title and the as-of date the page shows (`#as-of`), which
// changes a moment after the chart on a date step, so open tables' captions follow it.
function captionText(caption) {
  const base = caption.getAttribute('data-base') || '图表数据';
  const asOf = document.getElementById('as-of');
  const when = asOf && asOf.textContent && !base.includes('截至') ? ` · ${asOf.textContent}` : '';
  return `${base}${when}（表格，${caption.getAttribute('data-rows')} 行）`;
}

function refreshCaptions() {
  document.querySelectorAll('.chart-table:not([hidden]) caption[data-base]').forEach((caption) => {
    const text = captionText(caption);
    if (caption.textContent !== text) { caption.textContent = text; }
  });
}

// ---- table alternative of a chart -----------------------------------------------------------------------------
// The table is read from the figure as plotly drew it (gd.data, gd.layout), so it holds exactly the chart's numbers,
// patches included: maps give a row per region (value, or why there is none), heatmaps their matrix, bar and line
// charts a row per x (or per category for horizontal bars) and a column per trace (trace.meta.column names a trace
// where its legend name is not enough). Traces without hover (outlines, bands' edges) are left out unless they
// carry meta.column; map points without meta.columns (facility layers: thousands of demo points) are counted.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  a11y: (function () {
    const TYPED = {i1: Int8Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array, i4: Int32Array, u4: Uint32Array,
                   f4: Float32Array, f8: Float64Array};

    function plain(value) {  // plotly.py's base64 arrays ({dtype, bdata, shape}) and typed arrays as plain arrays
      if (value && typeof value === 'object' && value.bdata !== undefined && value.dtype) {
        const bytes = Uint8Array.from(atob(value.bdata), (c) => c.charCodeAt(0));
        const flat = Array.from(new TYPED[value.dtype](bytes.buffer));
        const shape = String(value.shape || '').split(',').map(Number).filter((n) => n > 0);
        if (shape.length === 2) {
          return Array.from({length: shape[0]}, (_, r) => flat.slice(r * shape[1], (r + 1) * shape[1]));
        }
        return flat;
      }
      if (ArrayBuffer.isView(value)) { return Array.from(value); }
      return Array.isArray(value) ? value.map((v) => (ArrayBuffer.isView(v) ? Array.from(v) : v)) : value;
    }

    function text(value) {  // plotly's rich text as plain text
      return String(value === undefined || value === null ? '' : value)
        .replace(/<br\s*\/?>/gi, ' ').replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
    }

    function cell(value) {
      if (value === null || value === undefined || (typeof value === 'number' && !isFinite(value))) { return '—'; }
      if (typeof value === 'number') {
        return value.toLocaleString('zh-CN', {maximumFractionDigits: 4});
      }
      const s = String(value);
      const day = /^(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$/.exec(s);
      return day ? day[1] : text(s);
    }

    function title(layout) {
      const t = layout && layout.title;
      return text(typeof t === 'string' ? t : (t && t.text) || '');
    }

    function mapTable(data, layout) {
      const axis = (layout.coloraxis || {});
      const bar = axis.colorbar || {};
      const valueName = text((bar.title && bar.title.text) || bar.title || '数值') || '数值';
      const ticks = bar.tickvals && bar.ticktext
        ? new Map(plain(bar.tickvals).map((v, i) => [v, bar.ticktext[i]])) : null;
      const rows = [];
      let skippedPoints = 0;
      data.forEach((trace) => {
        if (trace.type === 'choroplethmap' || trace.type === 'choropleth') {
          if (trace.hoverinfo === 'skip') { return; }
          const locations = plain(trace.locations) || [];
          const custom = plain(trace.customdata) || [];
          const z = plain(trace.z) || [];
          locations.forEach((loc, i) => {
            const name = custom[i] ? custom[i][0] : loc;
            const value = trace.coloraxis ? (ticks ? ticks.get(z[i]) : z[i]) : (custom[i] ? custom[i][1] : '无数据');
            rows.push([name, text(trace.name), value]);
          });
        } else if (trace.meta && trace.meta.columns) {
          pointRows(trace).forEach((row) => rows.push(row));
        } else {
          skippedPoints += (plain(trace.lon) || []).filter((v) => v !== null).length;
        }
      });
      const note = skippedPoints ? `地图上的设施点位（${skippedPoints.toLocaleString('zh-CN')} 处）未列入本表。` : '';
      return {head: ['地区', '层级', valueName], rows: rows, note: note, caption: `地图：${valueName}`};
    }

    function pointRows(trace) {
      return (plain(trace.customdata) || []).map((row) => row.slice(0, trace.meta.columns.length));
    }

    function pointTable(data) {
      const traces = data.filter((t) => t.meta && t.meta.columns);
      if (!traces.length) { return {head: ['说明'], rows: [['本图无可列表的数据']], note: ''}; }
      return {head: traces[0].meta.columns, rows: [].concat(...traces.map(pointRows)), note: ''};
    }

    function heatmapTable(trace, layout) {
      const x = plain(trace.x) || [], y = plain(trace.y) || [], z = plain(trace.z) || [];
      const corner = `${text((layout.yaxis && layout.yaxis.title && layout.yaxis.title.text) || '')}＼` +
        `${text((layout.xaxis && layout.xaxis.title && layout.xaxis.title.text) || '')}`;
      return {head: [corner, ...x.map(text)], rows: y.map((name, r) => [name, ...(z[r] || [])]), note: ''};
    }

    function cartesianTable(data) {
      const traces = data.filter((t) => (t.visible !== false) && (t.hoverinfo !== 'skip' || (t.meta && t.meta.column)));
      const horizontal = traces.length && traces.every((t) => t.orientation === 'h');
      const names = traces.map((t) => text((t.meta && t.meta.column) || t.name || '数值'));
      const byKey = new Map();
      traces.forEach((trace, column) => {
        const keys = plain(horizontal ? trace.y : trace.x) || [];
        const values = plain(horizontal ? trace.x : trace.y) || [];
        const texts = (trace.mode || '').includes('text') ? plain(trace.text) : null;
        keys.forEach((key, i) => {
          const k = cell(key);
          if (!byKey.has(k)) { byKey.set(k, new Array(traces.length).fill(null)); }
          byKey.get(k)[column] = trace.meta && trace.meta.text ? trace.meta.text : (texts ? texts[i] : values[i]);
        });
      });
      const keys = Array.from(byKey.keys());
      if (!horizontal && keys.every((k) => /^\d{4}-\d{2}-\d{2}$/.test(k))) { keys.sort(); }
      return {head: [horizontal ? '地区' : '日期', ...names], rows: keys.map((k) => [k, ...byKey.get(k)]), note: ''};
    }

    function figureTable(figure) {
      const data = (figure && figure.data) || [], layout = (figure && figure.layout) || {};
      const annotations = (layout.annotations || []).map((a) => text(a.text)).filter(Boolean);
      let table;
      if (!data.length) {
        table = {head: ['说明'], rows: [[annotations.join(' ') || '该视图无数据']], note: ''};
      } else if (data.some((t) => t.type === 'choroplethmap' || t.type === 'choropleth')) {
        table = mapTable(data, layout);
      } else if (data.some((t) => t.type === 'heatmap')) {
        table = heatmapTable(data.find((t) => t.type === 'heatmap'), layout);
      } else if (data.some((t) => t.type === 'scattermap' || (t.meta && t.meta.columns))) {  // points, e.g. a scatter
        table = pointTable(data);
      } else {
        table = cartesianTable(data);
      }
      // what: the chart's title (a map has none on screen: its colour bar says what); captionText adds when
      table.caption = title(layout) || table.caption || '图表数据';
      return table;
    }

    // Built as DOM, not as Dash components: a year of days is ~2,000 cells, which Dash's renderer takes a minute
    // to lay out on a slow machine; the panel's children are never set by Dash, so React leaves these alone.
    function render(panel, table) {
      const el = (tag, content, attrs) => {
        const node = document.createElement(tag);
        if (content !== undefined) { node.textContent = content; }
        Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
        return node;
      };
      const t = el('table', undefined, {class: 'table chart-data-table'});
      const caption = el('caption', undefined, {'data-base': table.caption, 'data-rows': String(table.rows.length)});
      caption.textContent = captionText(caption);
      t.appendChild(caption);
      const headRow = el('tr');
      table.head.forEach((h) => headRow.appendChild(el('th', cell(h), {scope: 'col'})));
      t.appendChild(el('thead')).appendChild(headRow);
      const body = el('tbody');
      table.rows.forEach((row) => {
        const tr = el('tr');
        tr.appendChild(el('th', cell(row[0]), {scope: 'row'}));
        row.slice(1).forEach((v) => tr.appendChild(el('td', cell(v))));
        body.appendChild(tr);
      });
      t.appendChild(body);
      const parts = [t];
      if (table.note) { parts.push(el('p', table.note, {class: 'note'})); }
      panel.replaceChildren(...parts);
    }

    function panelOf(chart) {
      return document.getElementById(JSON.stringify({chart: chart, type: 'chart-table'}));
    }

    function graphDiv(chart) {
      const holder = document.getElementById(chart);
      return holder && holder.querySelector('.js-plotly-plot');
    }

    return {
      figureTable: figureTable,
      // The 表格 button: show or hide the chart's table; while it shows, it follows every redraw of the chart.
      toggleTable: function (clicks, id) {
        const nu = window.dash_clientside.no_update;
        const show = Boolean(clicks) && clicks % 2 === 1;
        const gd = graphDiv(id.chart);
        const panel = panelOf(id.chart);
        if (gd && !gd._a11yTable) {
          gd._a11yTable = true;
          gd.on('plotly_afterplot', () => {
            const now = panelOf(id.chart);
            if (now && !now.hidden) { render(now, figureTable(gd)); }
          });
        }
        if (!show) {
          if (panel) { panel.replaceChildren(); }
          return [true, 'false', nu];
        }
        if (panel) { render(panel, gd ? figureTable(gd) : {caption: '图表数据', head: ['说明'], rows: [['图表尚未绘出']]}); }
        // over the chart, from just below the chart's buttons to the bottom of its card
        const button = document.getElementById(JSON.stringify({chart: id.chart, type: 'table-toggle'}));
        const bar = button && button.closest('.export-bar');
        const top = bar ? bar.offsetTop + bar.offsetHeight : 0;
        return [false, 'true', {top: `${top}px`}];
      },
      // The palette as an attribute of the page, for CSS (risk badges) that follows it.
      applyPalette: function (palette) {
        document.documentElement.setAttribute('data-palette', palette || 'standard');
        return window.dash_clientside.no_update;
      },
    };
  })(),
});
