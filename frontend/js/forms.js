// Form behaviour shared by every page: the app's own field checks and short messages (never the browser's bubbles
// or validationMessage), errors that clear as soon as a field becomes valid, busy buttons, the password checklist.
// Field errors live in an element [data-error-for="<field name>"] next to the input named <field name>.
//
// Reusable API (also for the dashboard's edit row):
//   applyFieldChecks(root, fields)  register a check on every input under root named after one of the album's fields
//                                   (album-fields.js: the field's rule from config.albumSchema, required or optional)
//                                   and fill [data-hint-for=name]
//   setFieldCheck(input, check)     register check(value) -> '' when valid, else a short message
//   checkFields(root, inputs)       run the checks, show the messages, focus the first bad field; true when all pass
//   showFieldErrors / clearFieldErrors / clearFieldError   place or remove messages (API errors too)
// Once a field shows an error, every edit re-checks it: the message updates, and disappears when the field is valid.
import { config } from './app-config.js';
import { el } from './dom.js';

/** Length in characters (Unicode code points), as the API and OpenAPI count it: "🎸" is 1, not 2 UTF-16 units. */
export function charLength(text) {
  return [...text].length;
}

const CHECKS = new WeakMap();

/** Register the check of one input: check(value, input) returns '' when valid, else the message to show. */
export function setFieldCheck(input, check) {
  CHECKS.set(input, check);
}

/** The message for an input's current value ('' when valid). Inputs without a registered check are not judged. */
export function fieldProblem(input) {
  const check = CHECKS.get(input);
  return check ? check(input.value, input) : '';
}

/** A field's name for messages: data-label, its <label>'s text, a data-label around it (a table cell), its name. */
function labelOf(input) {
  return input.dataset.label || input.labels?.[0]?.textContent.trim() ||
    input.parentElement?.closest('[data-label]')?.dataset.label || input.name;
}

const readable = (number) => (Math.abs(number) >= 10000 ? Number(number).toLocaleString('en') : String(number));

// Control characters are refused by the API (domain.TextRule); same class as the schema's pattern. Matching them is
// the point of this expression, hence the one rule switched off for it.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
// Refused by the API too (domain.TextRule), each with its own message: characters that reorder the text around them
// (bidirectional embeddings, overrides, isolates) and invisible tag characters, which can carry hidden text.
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
const TAG_CHARACTER = /[\u{E0000}-\u{E007F}]/u;

/** The check for one album field (album-fields.js): its JSON Schema rule, with messages worded like the API's
 * ("Year must be 1900–2027"). An optional field may stay empty. */
export function fieldCheck(field, label = field.label) {
  const { rule, required } = field;
  if (field.numeric) {
    const range = `${readable(rule.minimum)}–${readable(rule.maximum)}`;
    return (raw) => {
      const value = String(raw).trim();
      if (value === '') return required ? `${label} is required (${range}).` : '';
      const number = Number(value);
      const whole = /^[0-9]+$/.test(value) && Number.isSafeInteger(number);
      if (!whole || number < rule.minimum || number > rule.maximum) return `${label} must be ${range}.`;
      return '';
    };
  }
  // The server's whole text rule (albums.domain TEXT_PATTERN, via the schema): one visible character at least.
  const pattern = rule.pattern ? new RegExp(rule.pattern, 'u') : null;
  return (raw) => {
    const text = String(raw).trim();
    if (text === '') return required ? `${label} is required.` : '';
    if (CONTROL.test(text)) return `${label} must not contain control characters.`;
    if (BIDI_CONTROL.test(text)) return `${label} must not contain characters that reverse the text's direction.`;
    if (TAG_CHARACTER.test(text)) return `${label} must not contain invisible tag characters.`;
    if (pattern && !pattern.test(text)) return `${label} needs at least one visible character.`;
    const length = charLength(text);
    if (rule.maxLength != null && length > rule.maxLength) {
      return `${label} must be at most ${rule.maxLength} characters (now ${length}).`;
    }
    if (rule.minLength != null && length < rule.minLength) {
      return `${label} must be at least ${rule.minLength} characters.`;
    }
    return '';
  };
}

/**
 * Register the checks of the album's fields (album-fields.js) on the inputs under root named after them, and write a
 * short hint into [data-hint-for=name]. No maxlength/min/max attributes: the browser would count UTF-16 units and
 * show its own messages. Client checks only: the API is the judge.
 */
export function applyFieldChecks(root, fields) {
  for (const field of fields) {
    for (const input of root.querySelectorAll(`[name="${CSS.escape(field.name)}"]`)) {
      if (field.numeric) input.inputMode = 'numeric';
      input.required = field.required;
      setFieldCheck(input, fieldCheck(field, labelOf(input)));
    }
    const hint = root.querySelector(`[data-hint-for="${CSS.escape(field.name)}"]`);
    if (hint) hint.textContent = hintText(field);
  }
}

function hintText({ rule, numeric, required }) {
  const optional = required ? '' : 'Optional. ';
  if (numeric) {
    if (rule.minimum != null && rule.maximum != null) {
      return `${optional}A whole number from ${readable(rule.minimum)} to ${readable(rule.maximum)}.`;
    }
    return `${optional}A whole number.`;
  }
  if (rule.maxLength != null) return `${optional}Up to ${rule.maxLength} characters.`;
  return optional.trim();
}

/** A check that only asks for a value (after trimming). */
export function requiredCheck(message) {
  return (value) => (String(value).trim() === '' ? message : '');
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function emailCheck(value) {
  const text = String(value).trim();
  if (text === '') return 'Enter your e-mail address.';
  return EMAIL.test(text) ? '' : 'Enter an e-mail address like name@example.com.';
}

/** The username rule the pool was made for (config.usernameRule); usernames are sent in lower case. */
export function usernameCheck(value) {
  const rule = config.usernameRule;
  const text = String(value).trim().toLowerCase();
  if (text === '') return 'Choose a username.';
  if (text.includes('@')) return 'A username cannot be an e-mail address.';
  const length = charLength(text);
  if (length < rule.minLength || length > rule.maxLength || !new RegExp(rule.pattern, 'u').test(text)) {
    return `Username must be ${rule.minLength}–${rule.maxLength} ${rule.description}.`;
  }
  return '';
}

export function usernameHint() {
  const rule = config.usernameRule;
  return `${rule.minLength}–${rule.maxLength} characters: ${rule.description}. You can sign in with it.`;
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

/** Remove one input's message (its slot is looked up in the input's form, or its nearest row/fieldset). */
export function clearFieldError(input) {
  const root = input.form || input.closest('tr, fieldset') || document;
  const slot = errorSlot(root, input.name);
  if (slot) slot.textContent = '';
  input.removeAttribute('aria-invalid');
}

/** The checks' messages for the inputs that fail them, as {name: message}. */
export function invalidFields(inputs) {
  const fields = {};
  for (const input of inputs) {
    const problem = fieldProblem(input);
    if (problem) fields[input.name] = problem;
  }
  return fields;
}

/** Run the checks and show their messages inline. Returns true when every input is valid. */
export function checkFields(root, inputs) {
  const fields = invalidFields(inputs);
  inputs.forEach((input) => {
    if (!(input.name in fields)) clearFieldError(input);
  });
  showFieldErrors(root, fields);
  focusFirstInvalid(root);
  return Object.keys(fields).length === 0;
}

export function focusFirstInvalid(root) {
  root.querySelector('[aria-invalid="true"]')?.focus();
}

// Stale errors never stay: a field that shows an error is re-checked on every edit (any form, any page).
function recheck(event) {
  const input = event.target;
  if (!(input instanceof HTMLElement) || input.getAttribute('aria-invalid') !== 'true' || !CHECKS.has(input)) return;
  const problem = fieldProblem(input);
  if (!problem) {
    clearFieldError(input);
    return;
  }
  const root = input.form || input.closest('tr, fieldset') || document;
  const slot = errorSlot(root, input.name);
  if (slot && slot.textContent !== problem) slot.textContent = problem;
}
document.addEventListener('input', recheck);
document.addEventListener('change', recheck);

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

// The special characters Cognito counts as symbols (its documented set).
const COGNITO_SYMBOL = /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+ -]/;

/** The pool's password policy (config.passwordPolicy, read from Cognito by the bootstrap) as checklist rules. */
export function passwordRules(policy = config.passwordPolicy) {
  const minimum = policy.MinimumLength;
  const rules = [
    { id: 'length', text: `At least ${minimum} characters`, test: (value) => value.length >= minimum },
  ];
  if (policy.RequireUppercase) rules.push({ id: 'upper', text: 'An upper-case letter', test: (v) => /[A-Z]/.test(v) });
  if (policy.RequireLowercase) rules.push({ id: 'lower', text: 'A lower-case letter', test: (v) => /[a-z]/.test(v) });
  if (policy.RequireNumbers) rules.push({ id: 'digit', text: 'A digit', test: (v) => /[0-9]/.test(v) });
  if (policy.RequireSymbols) {
    rules.push({ id: 'symbol', text: 'A symbol such as ! @ # $ %', test: (v) => COGNITO_SYMBOL.test(v) });
  }
  return rules;
}

/** Fill the rules list and keep it in step with the password input as the user types. Returns a validity check. */
export function livePasswordRules(input, list) {
  const items = passwordRules().map((rule) => {
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
    return allMet;
  };
  setFieldCheck(input, (value) => {
    if (value === '') return 'Choose a password.';
    return update() ? '' : 'The password does not meet all the rules listed below it.';
  });
  input.addEventListener('input', update);
  update();
  return update;
}
