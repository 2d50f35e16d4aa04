// Tiny DOM helpers. Data only ever reaches the page as text nodes / textContent: never HTML strings.

/**
 * Build an element. props: class, text, dataset, on<event> (listener), boolean/string attributes.
 * Children may be nodes or strings (strings become text nodes).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'value') node.value = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.flat(Infinity).filter((child) => child != null && child !== false));
  return node;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`Page is missing #${id}`);
  return node;
}

/** Put a message in a live region; kind is info | success | error (styled by [data-kind]). Empty text hides it. */
export function showMessage(region, text, kind = 'info') {
  region.dataset.kind = kind;
  region.textContent = text || '';
}

export function clearMessage(region) {
  showMessage(region, '');
}
