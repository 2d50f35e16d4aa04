// Albums per decade as a horizontal bar list built from DOM nodes. Bar lengths are classes (w-0 … w-100 in steps
// of 5) because the CSP forbids inline styles.
import { el } from './dom.js';

export function countByDecade(albums) {
  const counts = new Map();
  for (const album of albums) {
    const decade = Math.floor(Number(album.Year) / 10) * 10;
    if (Number.isFinite(decade)) counts.set(decade, (counts.get(decade) || 0) + 1);
  }
  return [...counts.entries()].sort(([a], [b]) => a - b);
}

export function renderDecadeChart(list, albums) {
  const rows = countByDecade(albums);
  const most = Math.max(1, ...rows.map(([, count]) => count));
  list.replaceChildren(
    ...rows.map(([decade, count]) => {
      const step = Math.round((count / most) * 20) * 5;
      return el(
        'li',
        { class: 'chart-row', dataset: { decade: String(decade), count: String(count) } },
        el('span', { class: 'chart-label', text: `${decade}s` }),
        el('span', { class: 'chart-track', 'aria-hidden': 'true' }, el('span', { class: `chart-bar w-${step}` })),
        el('span', { class: 'chart-count', text: `${count} ${count === 1 ? 'album' : 'albums'}` }),
      );
    }),
  );
  return rows.length;
}
