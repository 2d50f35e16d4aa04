// Form behaviour shared by every page: schema-driven hints, field error display, busy buttons, password rules.
// Field errors live in an element [data-error-for="<field name>"] next to the input named <field name>.
import { el } from './dom.js';

/**
 * Copy the album JSON Schema's rules onto inputs named after its properties (min/max/step/minlength/maxlength/
 * required) and write a short hint into [data-hint-for=name]. Client hints only: the API is the judge.
 */
export function applySchemaHints(root, schema) {
  const required = new Set(schema?.required || []);
  for (const [name, rule] of Object.entries(schema?.properties || {})) {
    for (const input of root.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
      applyRule(input, rule, required.has(name));
    }
    const hint = root.querySelector(`[data-hint-for="${CSS.escape(name)}"]`);
    if (hint) hint.textContent = hintText(rule);
  }
}

function isNumeric(rule) {
  const types = [].concat(rule.type || []);
  return types.includes('integer') || types.includes('number');
}

function applyRule(input, rule, isRequired) {
  if (isNumeric(rule)) {
    input.type = 'number';
    input.inputMode = 'numeric';
    input.step = [].concat(rule.type).includes('integer') ? '1' : 'any';
    if (rule.minimum != null) input.min = String(rule.minimum);
    if (rule.maximum != null) input.max = String(rule.maximum);
  } else {
    if (rule.minLength != null) input.minLength = rule.minLength;
    if (rule.maxLength != null) input.maxLength = rule.maxLength;
    // The server's text rule (albums.domain TEXT_PATTERN): no control characters, one visible character at least.
    if (rule.pattern != null) {
      input.pattern = rule.pattern;
      input.title = 'Needs at least one visible character; no control characters.';
    }
  }
  input.required = isRequired;
}

const readable = (number) => (Math.abs(number) >= 10000 ? Number(number).toLocaleString('en') : String(number));

function hintText(rule) {
  if (isNumeric(rule)) {
    if (rule.minimum != null && rule.maximum != null) {
      return `A whole number from ${readable(rule.minimum)} to ${readable(rule.maximum)}.`;
    }
    return 'A whole number.';
  }
  if (rule.maxLength != null) return `Up to ${rule.maxLength} characters.`;
  return '';
}

function errorSlot(root, name) {
  return root.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
}

/** Show {field: message} next to the fields; returns the messages that had no field on this form. */
export function showFieldErrors(root, fields) {
  const unplaced = [];
  for (const [name, message] of Object.entries(fields || {})) {
    const slot = errorSlot(root, name);
    const input = root.querySelector(`[name="${CSS.escape(name)}"]`);
    if (slot) slot.textContent = message;
    if (input) input.setAttribute('aria-invalid', 'true');
    if (!slot) unplaced.push(`${name}: ${message}`);
  }
  return unplaced;
}

export function clearFieldErrors(root) {
  root.querySelectorAll('[data-error-for]').forEach((slot) => {
    slot.textContent = '';
  });
  root.querySelectorAll('[aria-invalid]').forEach((input) => input.removeAttribute('aria-invalid'));
}

/** The browser's constraint-check messages for the inputs that fail them, as {name: message}. */
export function invalidFields(inputs) {
  const fields = {};
  for (const input of inputs) {
    if (!input.checkValidity()) fields[input.name] = input.validationMessage;
  }
  return fields;
}

/** Run the browser's constraint checks and show them our way (inline, not bubbles). Returns true when valid. */
export function checkFields(root, inputs) {
  const fields = invalidFields(inputs);
  showFieldErrors(root, fields);
  focusFirstInvalid(root);
  return Object.keys(fields).length === 0;
}

export function focusFirstInvalid(root) {
  root.querySelector('[aria-invalid="true"]')?.focus();
}

/** Disable a form's controls while work runs; the submit button says what is happening. */
export async function whileBusy(form, busyLabel, work) {
  const button = form.querySelector('button[type="submit"]');
  const label = button?.textContent;
  const controls = [...form.elements].filter((control) => !control.disabled);
  controls.forEach((control) => {
    control.disabled = true;
  });
  form.setAttribute('aria-busy', 'true');
  if (button && busyLabel) button.textContent = busyLabel;
  try {
    return await work();
  } finally {
    controls.forEach((control) => {
      control.disabled = false;
    });
    form.removeAttribute('aria-busy');
    if (button && label != null) button.textContent = label;
  }
}

// Cognito's default password policy. The special characters are the ones Cognito counts as symbols.
const COGNITO_SYMBOL = /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+ -]/;
export const PASSWORD_RULES = [
  { id: 'length', text: 'At least 8 characters', test: (value) => value.length >= 8 },
  { id: 'upper', text: 'An upper-case letter', test: (value) => /[A-Z]/.test(value) },
  { id: 'lower', text: 'A lower-case letter', test: (value) => /[a-z]/.test(value) },
  { id: 'digit', text: 'A digit', test: (value) => /[0-9]/.test(value) },
  { id: 'symbol', text: 'A symbol such as ! @ # $ %', test: (value) => COGNITO_SYMBOL.test(value) },
];

/** Fill the rules list and keep it in step with the password input as the user types. Returns a validity check. */
export function livePasswordRules(input, list) {
  const items = PASSWORD_RULES.map((rule) => {
    const state = el('span', { class: 'visually-hidden' });
    const item = el('li', { dataset: { rule: rule.id, met: 'false' } }, rule.text, state);
    return { rule, item, state };
  });
  list.replaceChildren(...items.map(({ item }) => item));
  const update = () => {
    let allMet = true;
    for (const { rule, item, state } of items) {
      const met = rule.test(input.value);
      allMet &&= met;
      item.dataset.met = String(met);
      state.textContent = met ? ' (done)' : ' (still needed)';
    }
    input.setCustomValidity(allMet ? '' : 'The password does not meet all the rules listed below it.');
    return allMet;
  };
  input.addEventListener('input', update);
  update();
  return update;
}
