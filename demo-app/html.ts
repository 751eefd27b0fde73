/**
 * Safe HTML building for the demo's pages: the `html` template tag escapes every value it is
 * given unless that value is already `SafeHtml`, so user-provided text can never become markup.
 */

/** A string of markup that is already safe to send. */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

type Value = SafeHtml | string | number | null | undefined | false | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * Builds markup from a template, escaping every interpolated value.
 * @example html`<p>Hello, ${username}</p>` // username "<b>" renders as &lt;b&gt;
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let markup = strings[0];
  values.forEach((value, i) => {
    markup += render(value) + strings[i + 1];
  });
  return new SafeHtml(markup);
}
