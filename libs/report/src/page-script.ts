/**
 * The report pages' only script, inlined into each page: a read-out of the nearest point under the pointer on
 * every `svg.plot[data-points]` (svg-plot.ts), and sorting of every `table.sortable` by a click on (or Enter in)
 * a column header, by the cells' `data-v` values (numbers numerically, then text). Plain ES2017, no libraries.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  function fmt(v) {
    if (typeof v !== 'number') return String(v);
    if (Number.isInteger(v)) return String(v);
    var a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(4) : String(Number(v.toPrecision(6)));
  }
  function hover(svg) {
    var series;
    try { series = JSON.parse(svg.getAttribute('data-points')); } catch (e) { return; }
    var tip = document.createElement('div');
    tip.className = 'tip';
    tip.hidden = true;
    document.body.appendChild(tip);
    var dot = document.createElementNS(NS, 'circle');
    dot.setAttribute('r', '5');
    dot.setAttribute('class', 'hover');
    dot.style.display = 'none';
    svg.appendChild(dot);
    svg.addEventListener('mousemove', function (ev) {
      var m = svg.getScreenCTM();
      if (!m) return;
      var pt = svg.createSVGPoint();
      pt.x = ev.clientX;
      pt.y = ev.clientY;
      var p = pt.matrixTransform(m.inverse());
      var best = null, bestD = Infinity;
      for (var i = 0; i < series.length; i++) {
        var s = series[i];
        for (var j = 0; j < s.p.length; j++) {
          var dx = s.p[j][0] - p.x, dy = s.p[j][1] - p.y;
          var d = dx * dx + dy * dy;
          if (d < bestD) { bestD = d; best = { s: s, q: s.p[j] }; }
        }
      }
      if (!best || bestD > 60 * 60) { tip.hidden = true; dot.style.display = 'none'; return; }
      dot.setAttribute('cx', best.q[0]);
      dot.setAttribute('cy', best.q[1]);
      dot.setAttribute('stroke', best.s.c);
      dot.style.display = '';
      var xl = svg.getAttribute('data-x') || 'x', yl = svg.getAttribute('data-y') || 'y';
      tip.textContent = (best.s.n ? best.s.n + ': ' : '') + xl + ' ' + fmt(best.q[2]) + ', ' + yl + ' ' + fmt(best.q[3]);
      tip.style.borderColor = best.s.c;
      tip.hidden = false;
      tip.style.left = (ev.pageX + 14) + 'px';
      tip.style.top = (ev.pageY + 14) + 'px';
    });
    svg.addEventListener('mouseleave', function () { tip.hidden = true; dot.style.display = 'none'; });
  }
  function sortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    var body = table.tBodies[0];
    function key(row, c) {
      var cell = row.cells[c];
      if (!cell) return '';
      return cell.hasAttribute('data-v') ? cell.getAttribute('data-v') : cell.textContent;
    }
    function compare(a, b) {
      var na = a === '' ? NaN : Number(a), nb = b === '' ? NaN : Number(b);
      var fa = isFinite(na), fb = isFinite(nb);
      if (fa && fb) return na - nb;
      if (fa !== fb) return fa ? -1 : 1;
      if (a === '' || b === '') return a === b ? 0 : a === '' ? 1 : -1;
      return a < b ? -1 : a > b ? 1 : 0;
    }
    Array.prototype.forEach.call(heads, function (th, c) {
      function sortBy() {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        var rows = Array.prototype.slice.call(body.rows);
        rows.forEach(function (r, i) { r.setAttribute('data-i', i); });
        rows.sort(function (a, b) {
          var ka = key(a, c), kb = key(b, c);
          var d = compare(ka, kb);
          if (ka === '' || kb === '') return d || Number(a.getAttribute('data-i')) - Number(b.getAttribute('data-i'));
          return dir * d || Number(a.getAttribute('data-i')) - Number(b.getAttribute('data-i'));
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sortBy);
      th.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); sortBy(); } });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('svg.plot[data-points]'), hover);
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), sortable);
})();
`;
