/**
 * Strict parsing of XML that comes from outside (IdP metadata, SAML responses): a size cap, no
 * DTD at all (so no entity expansion, external or internal: XXE and "billion laughs" are refused
 * before the parser runs), and any parser complaint is an error rather than a half-built tree.
 */
import { DOMParser } from '@xmldom/xmldom';
import { useNamespaces } from 'xpath';

export const ns = {
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
} as const;

/** XPath with the SAML namespace prefixes above. */
export const select = useNamespaces(ns);

/** The elements an XPath selects (none when it selects something else). */
export function elements(expression: string, node: Node): Element[] {
  const found = select(expression, node);
  return Array.isArray(found) ? found.filter((n): n is Element => n.nodeType === 1) : [];
}

/** The first element an XPath selects. */
export function element(expression: string, node: Node): Element | undefined {
  return elements(expression, node)[0];
}

/** Parses `xml` or throws what `fail(reason)` makes. */
export function parseStrictXml(xml: string, maxChars: number, fail: (reason: string) => Error): Document {
  if (xml.length > maxChars) throw fail(`the XML is larger than ${maxChars} characters`);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw fail('the XML declares a DTD or entities, which are not accepted');
  let problem: string | undefined;
  const note = (message: string) => {
    problem ??= message;
  };
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: {},
      errorHandler: { warning: () => {}, error: note, fatalError: note },
    }).parseFromString(xml, 'text/xml');
  } catch (err) {
    throw fail(`the XML does not parse (${(err as Error).message.split('\n')[0]})`);
  }
  if (problem !== undefined) throw fail(`the XML does not parse (${problem.split('\n')[0]})`);
  if (!doc?.documentElement) throw fail('the XML has no root element');
  return doc;
}
