// Albums per decade as a horizontal bar list built from DOM nodes. Bar lengths are classes (w-0 … w-100 in steps
// of 5) because the CSP forbids inline styles. The counts come from the API: they cover the whole result, not
// only the rows loaded on the page.
import { el } from './dom.js';

/** decades: [{decade, count}] ascending. Returns how many decades are shown. */
export function renderDecadeChart(list, decades) {
  const rows = decades.filter(({ count }) => count > 0);
  const most = Math.max(1, ...rows.map(({ count }) => count));
  list.replaceChildren(
    ...rows.map(({ decade, count }) => {
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
