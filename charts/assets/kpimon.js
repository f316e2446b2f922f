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

  function draw(node) {
    var el = document.getElementById(node.getAttribute('data-chart'));
    if (!el) return null;
    var spec = JSON.parse(node.textContent);
    var option = spec.option || {};
    option.tooltip = option.tooltip || {};
    option.tooltip.confine = true;
    if (spec.tips && spec.axisTips) {
      option.tooltip.formatter = axisTip(spec);
    } else if (spec.tips) {
      option.tooltip.formatter = function (p) {
        var t = pick(spec.tips, Array.isArray(p) ? p[0] : p);
        return t == null ? '' : esc(t).replace(/\n/g, '<br>');
      };
    }
    if (spec.valueFormat && formats[spec.valueFormat]) {
      option.tooltip.valueFormatter = formats[spec.valueFormat];
    }
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption(option);
    if (spec.links) {
      // On a touch screen the first tap shows the tooltip and a second tap on the same bar
      // or cell opens its page; with a mouse one click opens it.
      var last = null;
      chart.on('click', function (p) {
        var u = pick(spec.links, p);
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

  function start() {
    var charts = [];
    var nodes = document.querySelectorAll('script[type="application/json"][data-chart]');
    for (var i = 0; i < nodes.length; i++) {
      var c = draw(nodes[i]);
      if (c) charts.push(c);
    }
    var pending = 0;
    window.addEventListener('resize', function () {
      if (pending) cancelAnimationFrame(pending);
      pending = requestAnimationFrame(function () {
        pending = 0;
        for (var j = 0; j < charts.length; j++) charts[j].resize();
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
