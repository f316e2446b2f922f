// kpimon pages: draws every chart whose options the page carries as JSON in a
// <script type="application/json" data-chart="ID"> element. The only script on the pages;
// it never evaluates text from the page, and tooltips show data as text.
(function () {
  'use strict';

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  // Only the page's own relative addresses are followed on a click.
  function safeLink(u) {
    return typeof u === 'string' && u !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(u) && !/^\/\//.test(u);
  }

  function pick(table, p) {
    if (!table || !p) return undefined;
    var row = table[p.seriesIndex];
    return row ? row[p.dataIndex] : undefined;
  }

  var formats = {
    percent: function (v) { return typeof v === 'number' ? v.toFixed(1) + '%' : esc(v); },
    number: function (v) { return typeof v === 'number' ? v.toLocaleString('zh-CN', { maximumFractionDigits: 2 }) : esc(v); }
  };

  // An axis tooltip that lists, for the month under the pointer, each series by its tip: none
  // where the tip is '' (a forecast's band, the months a forecast line crosses), the tip as
  // text where there is one (预计全年 … at December), else the series' name and value.
  function axisTip(spec) {
    var fmt = formats[spec.valueFormat] || esc;
    return function (params) {
      var list = Array.isArray(params) ? params : [params];
      var lines = [];
      if (list.length && list[0].axisValueLabel != null) lines.push(esc(list[0].axisValueLabel));
      for (var i = 0; i < list.length; i++) {
        var p = list[i];
        var t = pick(spec.tips, p);
        if (t === '') continue;
        if (t != null) {
          lines.push(p.marker + esc(t));
          continue;
        }
        var v = Array.isArray(p.value) ? p.value[p.value.length - 1] : p.value;
        if (v == null || v === '-' || (typeof v === 'number' && isNaN(v))) continue;
        lines.push(p.marker + esc(p.seriesName) + '：' + fmt(v));
      }
      return lines.join('<br>');
    };
  }

  // Charts to lay out again when the window changes (labelFitter).
  var refits = [];

  // The page's unit index (large assessments): names, path-escaped codes, and the link to a
  // unit as the text before and after its code.
  var units;
  function unitIndex() {
    if (units === undefined) {
      var n = document.getElementById('unit-index');
      units = n ? JSON.parse(n.textContent) : null;
    }
    return units;
  }
  function unitHref(idx, i) { return idx.href[0] + idx.codes[i] + idx.href[1]; }

  // A large assessment's heat map comes as one letter a cell (see heatCells in charts): here
  // it becomes the x axis (units in the order given), the data, the tooltips and the links,
  // and the window on the units is as many as the chart's width holds.
  function expandHeat(spec, option, el) {
    var h = spec.heat, idx = unitIndex();
    if (!idx) return;
    var xs = option.xAxis[0], ys = option.yAxis[0].data, ny = ys.length;
    var names = new Array(h.order.length);
    for (var x = 0; x < h.order.length; x++) names[x] = idx.names[h.order[x]];
    xs.data = names;
    var data = new Array(names.length * ny);
    for (var k = 0; k < data.length; k++) {
      data[k] = [Math.floor(k / ny), k % ny, h.kinds[h.cells.charCodeAt(k) - 97][0]];
    }
    option.series[0].data = data;
    var fit = Math.max(5, Math.floor((el.clientWidth - 170) / 22));
    var zoom = option.dataZoom && option.dataZoom[0];
    if (zoom && zoom.endValue > fit - 1) zoom.endValue = fit - 1;
    return {
      tip: function (p) {
        var v = p.value, kind = h.kinds[h.cells.charCodeAt(v[0] * ny + v[1]) - 97];
        return names[v[0]] + ' · ' + ys[v[1]] + '\n' + kind[1] + '\n' + h.hint;
      },
      link: function (p) { return unitHref(idx, h.order[p.value[0]]); }
    };
  }

  // Series that follow an indicator's legend entry (last year's line of it): each is drawn
  // only while its indicator and spec.followAll are both switched on. The option starts so,
  // and the returned function gives the series' data for a legend's selection.
  function follower(spec, option) {
    var kept = {}, n = option.series.length;
    for (var i = 0; i < spec.follows.length; i++) {
      kept[spec.follows[i][0]] = option.series[spec.follows[i][0]].data;
    }
    function patch(selected) {
      var out = [];
      for (var k = 0; k < n; k++) out.push({});
      var all = selected[spec.followAll] !== false;
      for (var j = 0; j < spec.follows.length; j++) {
        var f = spec.follows[j];
        out[f[0]] = { data: all && selected[f[1]] !== false ? kept[f[0]] : [] };
      }
      return out;
    }
    var legend = Array.isArray(option.legend) ? option.legend[0] : option.legend;
    var first = patch((legend && legend.selected) || {});
    for (var k = 0; k < n; k++) if (first[k].data) option.series[k].data = first[k].data;
    return patch;
  }

  // The x axis of a heat map as the chart's width allows: a unit's column at most
  // maxColumn px wide (a city's three counties do not stretch across a desktop), its label
  // flat when the column holds its longest name (spec.fitLabels characters), slanted when the
  // column is at least 18 px wide, standing when narrower. It returns the refit for a new
  // width.
  var maxColumn = 140;
  function labelFitter(spec, option, el) {
    var axis = option.xAxis && option.xAxis[0];
    var n = axis && axis.data ? axis.data.length : 0;
    if (!n) return null;
    var grid = Array.isArray(option.grid) ? option.grid[0] : option.grid;
    var right = grid && grid.right != null ? Number(grid.right) : 8;
    function layout(width) {
      // the grid's margins and the indicators' labels (120 px wide) take about 150 px
      var room = Math.max(0, width - 150), per = Math.min(maxColumn, room / n);
      var l = { right: Math.max(right, Math.floor(right + room - per * n)), rotate: 90, width: 72 };
      if (per >= spec.fitLabels * 12 + 8) {
        l.rotate = 0;
        l.width = Math.min(72, Math.floor(per) - 4);
      } else if (per >= 18) {
        l.rotate = 45;
      }
      return l;
    }
    function key(l) { return l.right + ':' + l.rotate + ':' + l.width; }
    // the legend of the statuses sits over the map: centred, or on the left when the map is
    function legendLeft(l) { return l.right > right ? 8 : 'center'; }
    var first = layout(el.clientWidth), current = key(first);
    axis.axisLabel = axis.axisLabel || {};
    axis.axisLabel.rotate = first.rotate;
    axis.axisLabel.width = first.width;
    if (grid) grid.right = first.right;
    var vm = Array.isArray(option.visualMap) ? option.visualMap[0] : option.visualMap;
    if (vm) vm.left = legendLeft(first);
    // the indicators' labels are narrower than 120 px on some pages: the columns, measured
    // once drawn, are brought down to maxColumn
    function trim(chart, l) {
      var p0 = chart.convertToPixel({ xAxisIndex: 0, yAxisIndex: 0 }, [0, 0]);
      var p1 = chart.convertToPixel({ xAxisIndex: 0, yAxisIndex: 0 }, [1, 0]);
      var over = p0 && p1 ? (p1[0] - p0[0]) - maxColumn : 0;
      if (over > 0.5) {
        l.right += Math.ceil(over * n);
        current = key(l);
        chart.setOption({ grid: [{ right: l.right }] });
      }
    }
    return function (chart, drawn) {
      var l = layout(chart.getWidth());
      if (drawn || key(l) !== current) {
        current = key(l);
        var patch = { grid: [{ right: l.right }], xAxis: [{ axisLabel: { rotate: l.rotate, width: l.width } }] };
        if (vm) patch.visualMap = [{ left: legendLeft(l) }];
        if (!drawn) chart.setOption(patch);
      }
      trim(chart, l);
    };
  }

  // A legend of many long names (spec.fitLegend): every name shown, cut with "…" to what
  // two to a row allow on a narrow chart (at most 160 px), in as many rows as they take; the
  // plot starts below the rows and the chart grows by what they take beyond the plot's
  // original top, so the plot keeps its height. Items are counted at their widest (icon,
  // gap, cut name), so the rows reserved are never fewer than ECharts draws. It returns the
  // refit for a new width.
  function legendFitter(spec, option, el) {
    var legend = Array.isArray(option.legend) ? option.legend[0] : option.legend;
    var grid = Array.isArray(option.grid) ? option.grid[0] : option.grid;
    if (!legend || !grid || !legend.data) return null;
    var names = legend.data.map(function (d) { return typeof d === 'string' ? d : d.name; });
    var ctx = document.createElement('canvas').getContext('2d');
    ctx.font = '12px ' + ((option.textStyle && option.textStyle.fontFamily) || 'sans-serif');
    var longest = 0;
    for (var i = 0; i < names.length; i++) longest = Math.max(longest, Math.ceil(ctx.measureText(names[i]).width));
    var icon = 25 + 5, gap = 10, itemHeight = 14, pad = 5;
    var top0 = Number(grid.top) || 0, height0 = el.clientHeight;
    function layout(width) {
      var room = width - 2 * pad, text = Math.min(longest, 160);
      var perRow = Math.floor((room + gap) / (icon + text + gap));
      if (perRow < 2) {
        perRow = 2;
        text = Math.max(24, Math.floor((room + gap) / 2 - gap - icon));
      }
      var rows = Math.ceil(names.length / perRow);
      var top = 2 * pad + rows * itemHeight + (rows - 1) * gap + 14;
      return { text: text, top: top, height: height0 + Math.max(0, top - top0) };
    }
    function apply(l) {
      legend.textStyle = legend.textStyle || {};
      legend.textStyle.width = l.text;
      legend.textStyle.overflow = 'truncate';
      legend.textStyle.ellipsis = '…';
      grid.top = l.top;
      el.style.height = l.height + 'px';
    }
    var current = layout(el.clientWidth);
    apply(current);
    return function (chart) {
      var l = layout(el.clientWidth);
      if (l.text === current.text && l.top === current.top) return;
      current = l;
      el.style.height = l.height + 'px';
      chart.setOption({ legend: [{ textStyle: { width: l.text, overflow: 'truncate', ellipsis: '…' } }], grid: [{ top: l.top }] });
      chart.resize();
    };
  }

  function draw(node) {
    var el = document.getElementById(node.getAttribute('data-chart'));
    if (!el) return null;
    var spec = JSON.parse(node.textContent);
    var option = spec.option || {};
    option.tooltip = option.tooltip || {};
    option.tooltip.confine = true;
    var tipOf = function (p) { return pick(spec.tips, p); };
    var linkOf = spec.links ? function (p) { return pick(spec.links, p); } : null;
    if (spec.heat) {
      var heat = expandHeat(spec, option, el);
      if (heat) { tipOf = heat.tip; linkOf = heat.link; }
    }
    if (spec.tips && spec.axisTips) {
      option.tooltip.formatter = axisTip(spec);
    } else if (spec.tips || spec.heat) {
      option.tooltip.formatter = function (p) {
        var t = tipOf(Array.isArray(p) ? p[0] : p);
        return t == null ? '' : esc(t).replace(/\n/g, '<br>');
      };
    }
    if (spec.valueFormat && formats[spec.valueFormat]) {
      option.tooltip.valueFormatter = formats[spec.valueFormat];
    }
    var follow = spec.follows ? follower(spec, option) : null;
    var refit = spec.fitLabels ? labelFitter(spec, option, el) : null;
    var refitLegend = spec.fitLegend ? legendFitter(spec, option, el) : null;
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption(option);
    if (refit) {
      refit(chart, true);
      refits.push(function () { refit(chart, false); });
    }
    if (refitLegend) refits.push(function () { refitLegend(chart); });
    if (follow) {
      chart.on('legendselectchanged', function (e) { chart.setOption({ series: follow(e.selected) }); });
    }
    if (linkOf) {
      // On a touch screen the first tap shows the tooltip and a second tap on the same bar
      // or cell opens its page; with a mouse one click opens it.
      var last = null;
      chart.on('click', function (p) {
        var u = linkOf(p);
        if (!safeLink(u)) return;
        var native = p.event && p.event.event;
        var touch = native && native.pointerType ? native.pointerType === 'touch'
          : !!(window.matchMedia && window.matchMedia('(hover: none)').matches);
        var key = p.seriesIndex + ':' + p.dataIndex;
        if (touch && last !== key) { last = key; return; }
        window.location.href = u;
      });
    }
    return chart;
  }

  // A search box over the unit index: the names (or codes) holding what is typed, at most
  // 20, as links; Enter opens the first.
  function searchBox(box) {
    var idx = unitIndex(), input = box.querySelector('input[data-unit-search]'), list = box.querySelector('.unit-results');
    if (!idx || !input || !list) return;
    input.hidden = false;
    function show() {
      var q = input.value.trim().toLowerCase();
      while (list.firstChild) list.removeChild(list.firstChild);
      if (!q) { list.hidden = true; return; }
      var n = 0;
      for (var i = 0; i < idx.names.length && n < 20; i++) {
        if (idx.names[i].toLowerCase().indexOf(q) < 0 && idx.codes[i].toLowerCase().indexOf(q) < 0) continue;
        var li = document.createElement('li'), a = document.createElement('a');
        a.href = unitHref(idx, i);
        a.textContent = idx.names[i];
        li.appendChild(a);
        list.appendChild(li);
        n++;
      }
      if (n === 0) {
        var none = document.createElement('li');
        none.className = 'none';
        none.textContent = box.getAttribute('data-none');
        list.appendChild(none);
      }
      list.hidden = false;
    }
    input.addEventListener('input', show);
    input.addEventListener('keydown', function (e) {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      var a = list.querySelector('a');
      if (a && safeLink(a.getAttribute('href'))) window.location.href = a.getAttribute('href');
    });
  }

  // Rows of the paged tables (see pagedTable in charts), built as the page's template
  // builds them.
  function td(tr, cls, text) {
    var c = document.createElement('td');
    if (cls) c.className = cls;
    if (text != null) c.textContent = text;
    tr.appendChild(c);
    return c;
  }
  function span(parent, cls, text) {
    var s = document.createElement('span');
    if (cls) s.className = cls;
    s.textContent = text;
    parent.appendChild(s);
    return s;
  }
  function unitLink(cell, idx, i) {
    var a = document.createElement('a');
    a.href = unitHref(idx, i);
    a.textContent = idx.names[i];
    cell.appendChild(a);
  }
  // A city's county (a province's city) links to its own assessment's pages.
  function ownLink(cell, idx, i) {
    if (!idx.own || !idx.own.ids[i]) return;
    var a = document.createElement('a');
    a.className = 'own';
    a.href = idx.own.href[0] + idx.own.ids[i] + idx.own.href[1];
    a.textContent = idx.own.text[0] + idx.names[i] + idx.own.text[1];
    cell.appendChild(a);
  }
  var rowMakers = {
    // [unit, rank, tied, change, change dir, total, grade, grade class, veto, unreported mark
    //  (本月未报送, 缺报 3 项 or ""), categories…, base, bonus, and with t.ly: last year's rank]
    ranks: function (t, r, idx) {
      var tr = document.createElement('tr');
      if (r[8]) tr.className = 'veto';
      var rank = td(tr, 'num', r[1]);
      if (r[2]) span(rank, 'tie', t.tie);
      var name = td(tr);
      unitLink(name, idx, r[0]);
      if (r[9]) span(name, 'badge warn unrep', r[9]);
      ownLink(name, idx, r[0]);
      td(tr, 'num strong', r[5]);
      var grade = td(tr);
      span(grade, 'grade ' + r[7], r[6]);
      if (r[8]) span(grade, 'badge bad veto-mark', t.veto);
      td(tr, 'change ' + r[4], r[3]);
      var end = r.length;
      if (t.ly) td(tr, 'ly-rank', r[--end]);
      for (var k = 10; k < end; k++) td(tr, 'num', r[k]);
      return tr;
    },
    // [unit, status, status text, prior, completion, year end, range, class, needed, actual,
    //  expected, target, pace, score, incomplete, and with t.ly: last year's difference, its
    //  class (1 better, -1 worse), figure (or a number: t.ly.none's text), completion, status]
    evals: function (t, r, idx) {
      var tr = document.createElement('tr');
      var name = td(tr, 'name');
      unitLink(name, idx, r[0]);
      var st = td(tr);
      if (r[1]) span(st, 'status status-' + r[1], r[2]);
      else st.textContent = r[2];
      if (r[3]) span(st, 'prior', r[3]);
      if (r[14]) span(st, 'prior incomplete', r[14]);
      td(tr, 'num', r[4]);
      var fc = td(tr, 'num fc' + (r[7] ? ' ' + r[7] : ''), r[5]);
      if (r[6]) span(span(fc, 'range', t.range), null, r[6]);
      td(tr, 'num', r[8]);
      td(tr, 'num', r[9]);
      if (t.ly) {
        var ly = td(tr, 'num ly');
        if (r[15]) span(ly, 'ly-diff' + (r[16] > 0 ? ' ly-better' : r[16] < 0 ? ' ly-worse' : ''), r[15]);
        span(ly, 'ly-then', typeof r[17] === 'number' ? t.ly.none[r[17]] : t.ly.then + r[17]);
        var state = [];
        if (r[18]) state.push(t.ly.done + r[18]);
        if (r[19]) state.push(r[19]);
        if (state.length) span(ly, 'ly-then', state.join(' · '));
      }
      for (var k = 10; k < 14; k++) td(tr, 'num', r[k]);
      td(tr, null, t.category);
      return tr;
    }
  };

  function pager(node) {
    var id = node.getAttribute('data-table'), t = JSON.parse(node.textContent), idx = unitIndex();
    var table = document.getElementById(id), nav = document.querySelector('nav[data-pager="' + id + '"]');
    var make = rowMakers[t.kind];
    if (!table || !nav || !make || !idx) return;
    var body = table.tBodies[0], pages = Math.ceil(t.rows.length / t.size), at = 0;
    var label = nav.querySelector('.pager-at'), buttons = nav.querySelectorAll('button[data-page]');
    function show(p) {
      at = Math.max(0, Math.min(pages - 1, p));
      var rows = document.createDocumentFragment();
      for (var k = at * t.size; k < Math.min(t.rows.length, (at + 1) * t.size); k++) rows.appendChild(make(t, t.rows[k], idx));
      while (body.firstChild) body.removeChild(body.firstChild);
      body.appendChild(rows);
      refreshCues();
      label.textContent = nav.getAttribute('data-format').replace('{page}', at + 1).replace('{pages}', pages);
      for (var b = 0; b < buttons.length; b++) {
        var step = Number(buttons[b].getAttribute('data-page'));
        buttons[b].disabled = at + step < 0 || at + step >= pages;
      }
    }
    for (var b = 0; b < buttons.length; b++) {
      buttons[b].addEventListener('click', function (e) {
        show(at + Number(e.currentTarget.getAttribute('data-page')));
        table.scrollIntoView({ block: 'nearest' });
      });
    }
    nav.hidden = false;
    label.textContent = nav.getAttribute('data-format').replace('{page}', 1).replace('{pages}', pages);
    buttons[0].disabled = true;
    buttons[buttons.length - 1].disabled = pages < 2;
  }

  // Tables wider than their box (a phone's screen): a line over each says it scrolls
  // sideways (the body's data-swipe), and the edge with more columns beyond it fades, so no
  // column is cut off mid-character without a sign that the rest is there.
  var cues = [];
  function scrollCue(wrap) {
    var text = document.body.getAttribute('data-swipe');
    if (!text || !wrap.parentNode) return;
    var box = document.createElement('div');
    box.className = 'table-scroll';
    wrap.parentNode.insertBefore(box, wrap);
    var hint = document.createElement('p');
    hint.className = 'note scroll-hint';
    hint.textContent = text;
    box.parentNode.insertBefore(hint, box);
    box.appendChild(wrap);
    function update() {
      var wide = wrap.scrollWidth > wrap.clientWidth + 1;
      hint.hidden = !wide;
      box.classList.toggle('more-right', wide && wrap.scrollLeft + wrap.clientWidth < wrap.scrollWidth - 1);
    }
    wrap.addEventListener('scroll', update, { passive: true });
    update();
    cues.push(update);
  }
  function refreshCues() {
    for (var i = 0; i < cues.length; i++) cues[i]();
  }

  function start() {
    var charts = [];
    var nodes = document.querySelectorAll('script[type="application/json"][data-chart]');
    for (var i = 0; i < nodes.length; i++) {
      var c = draw(nodes[i]);
      if (c) charts.push(c);
    }
    var boxes = document.querySelectorAll('.unit-search');
    for (var s = 0; s < boxes.length; s++) searchBox(boxes[s]);
    var tables = document.querySelectorAll('script[type="application/json"][data-table]');
    for (var t = 0; t < tables.length; t++) pager(tables[t]);
    var wraps = document.querySelectorAll('.table-wrap');
    for (var w = 0; w < wraps.length; w++) scrollCue(wraps[w]);
    var pending = 0;
    window.addEventListener('resize', function () {
      if (pending) cancelAnimationFrame(pending);
      pending = requestAnimationFrame(function () {
        pending = 0;
        for (var j = 0; j < charts.length; j++) charts[j].resize();
        for (var f = 0; f < refits.length; f++) refits[f]();
        refreshCues();
      });
    });
    var picker = document.querySelector('select[data-autosubmit]');
    if (picker && picker.form) {
      picker.addEventListener('change', function () { picker.form.submit(); });
    }
    document.documentElement.setAttribute('data-charts-drawn', String(charts.length));
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
