// The album's fields, once for the whole site: the table's columns, the edit row's inputs, the add form's inputs,
// the sort choices, the search hint and the values sent to the API all follow this list (in its order).
//
// It is config.albumFields, the backend's own field table (albums.domain.FIELDS, written into config.js by
// bootstrap/stack.py config_js): [{name, label, type: 'integer'|'text', required, editable, sortable, searchable}].
// Each field's rule (min/max, maxLength, pattern) is the config.albumSchema property of the same name: the checks
// and hints of forms.js read it.
//
// Whether a field is a number is decided here and nowhere else (`numeric`).
import { config } from './app-config.js';

function complete(field) {
  return Object.freeze({
    ...field,
    numeric: field.type === 'integer',
    rule: config.albumSchema.properties?.[field.name] || {},
    // Element ids: album-<name in lower case>, as the add form always had them (#album-rank, #album-year, …); the
    // album's own name is #album-title, the id the pages and their tests have always used for it.
    slug: field.name === 'Album' ? 'title' : field.name.toLowerCase(),
  });
}

/** Every album field, in display order. */
export const ALBUM_FIELDS = Object.freeze(config.albumFields.map(complete));

/** The fields a PUT may change, in display order. */
export const EDITABLE_FIELDS = Object.freeze(ALBUM_FIELDS.filter((field) => field.editable));

export function fieldNamed(name) {
  return ALBUM_FIELDS.find((field) => field.name === name) || null;
}

/** What an input shows for the album's value: '' for an absent optional field. */
export function shownValue(field, album) {
  const value = album?.[field.name];
  return value == null ? '' : String(value);
}

/** The API's value for what was typed: a number for a numeric field, the text otherwise ('' clears an optional one). */
export function apiValue(field, text) {
  const trimmed = String(text).trim();
  if (trimmed === '') return '';
  return field.numeric ? Number(trimmed) : String(text);
}

/** The album's fields as a create request wants them (absent optional fields are left out). */
export function albumBody(album) {
  const body = {};
  for (const field of ALBUM_FIELDS) {
    const value = album[field.name];
    if (value != null && value !== '') body[field.name] = value;
  }
  return body;
}
