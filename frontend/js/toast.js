// Confirmations where the user looks: a toast fixed at the bottom of the viewport, announced by screen readers
// (role=status, aria-live=polite; errors role=alert), gone after a few seconds, with an optional action button.
//
//   const toast = showToast({ message: 'Deleted album 12.', action: { label: 'Undo', onClick: undo } });
//   toast.dismiss();
//
// message: text (never HTML); kind: 'info' | 'success' | 'error'; action: {label, onClick} (the toast closes after
// onClick); timeout: ms (default 6 s, 10 s with an action; paused while hovered or focused; 0 = stays).
// A new toast replaces the one shown, so messages never pile up over the page.
import { el } from './dom.js';

const DEFAULT_MS = 6000;
const WITH_ACTION_MS = 10000;

let region = null;

function toastRegion() {
  if (!region || !region.isConnected) {
    region = el('div', { class: 'toast-region', id: 'toast-region' });
    document.body.append(region);
  }
  return region;
}

export function showToast({ message, kind = 'success', action = null, timeout } = {}) {
  const ms = timeout ?? (action ? WITH_ACTION_MS : DEFAULT_MS);
  const text = el('span', { class: 'toast-text', text: message });
  const toast = el('div', {
    class: 'toast',
    role: kind === 'error' ? 'alert' : 'status',
    'aria-live': kind === 'error' ? 'assertive' : 'polite',
    'aria-atomic': 'true',
    dataset: { kind, testid: 'toast' },
  }, text);
  let timer = null;
  const dismiss = () => {
    clearTimeout(timer);
    toast.remove();
  };
  if (action) {
    toast.append(el('button', {
      type: 'button',
      class: 'button toast-action',
      text: action.label,
      dataset: { testid: 'toast-action' },
      onclick: async () => {
        dismiss();
        await action.onClick();
      },
    }));
  }
  toast.append(el('button', {
    type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', text: '×', onclick: dismiss,
  }));
  const start = () => {
    if (ms > 0) timer = setTimeout(dismiss, ms);
  };
  const pause = () => clearTimeout(timer);
  toast.addEventListener('mouseenter', pause);
  toast.addEventListener('mouseleave', start);
  toast.addEventListener('focusin', pause);
  toast.addEventListener('focusout', start);
  toastRegion().replaceChildren(toast);
  start();
  return { element: toast, dismiss };
}
