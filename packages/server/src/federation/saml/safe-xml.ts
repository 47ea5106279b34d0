/**
 * Strict parsing of XML that comes from outside (IdP metadata, SAML responses): a size cap, no
 * DTD at all (so no entity expansion, external or internal: XXE and "billion laughs" are refused
 * before the parser runs), and any parser complaint is an error rather than a half-built tree.
 *
 * The parser and XPath are the ones node-saml uses (`@xmldom/xmldom`, `xpath`). They are
 * loaded through `require` with the few DOM members used here typed below: their own type
 * files pull TypeScript's whole DOM library into the program, which would retype the
 * server's (and its tests') `fetch`, `Response` and friends as the browser's.
 */
import { createRequire } from 'node:module';

/** The DOM members this module's callers use. */
export interface XmlNode {
  readonly nodeType: number;
  readonly textContent: string | null;
}
export interface XmlElement extends XmlNode {
  readonly localName: string;
  readonly namespaceURI: string | null;
  getAttribute(name: string): string | null;
}
interface XmlDocument {
  readonly documentElement: XmlElement | null;
}
interface ErrorHandler {
  warning(message: string): void;
  error(message: string): void;
  fatalError(message: string): void;
}

const require = createRequire(import.meta.url);
const { DOMParser } = require('@xmldom/xmldom') as {
  DOMParser: new (options: {
    locator: object;
    errorHandler: ErrorHandler;
  }) => { parseFromString(xml: string, mimeType: string): XmlDocument };
};
const xpath = require('xpath') as {
  useNamespaces(map: Record<string, string>): (expression: string, node: XmlNode) => unknown;
};

export const ns = {
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
} as const;

const select = xpath.useNamespaces(ns);

/** The elements an XPath (with the prefixes of `ns`) selects under `node`. */
export function elements(expression: string, node: XmlNode): XmlElement[] {
  const found = select(expression, node);
  return Array.isArray(found) ? found.filter((n: XmlNode): n is XmlElement => n.nodeType === 1) : [];
}

/** The first element an XPath selects. */
export function element(expression: string, node: XmlNode): XmlElement | undefined {
  return elements(expression, node)[0];
}

/** Parses `xml` and returns its root element, or throws what `fail(reason)` makes. */
export function parseStrictXml(xml: string, maxChars: number, fail: (reason: string) => Error): XmlElement {
  if (xml.length > maxChars) throw fail(`the XML is larger than ${maxChars} characters`);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw fail('the XML declares a DTD or entities, which are not accepted');
  let problem: string | undefined;
  const note = (message: string) => {
    problem ??= message;
  };
  let doc: XmlDocument;
  try {
    const parser = new DOMParser({ locator: {}, errorHandler: { warning: () => {}, error: note, fatalError: note } });
    doc = parser.parseFromString(xml, 'text/xml');
  } catch (err) {
    throw fail(`the XML does not parse (${String((err as Error)?.message).split('\n')[0]})`);
  }
  if (problem !== undefined) throw fail(`the XML does not parse (${problem.split('\n')[0]})`);
  if (!doc?.documentElement) throw fail('the XML has no root element');
  return doc.documentElement;
}
