// HTML compatibility: which HTML and CSS features a message's HTML uses, and how mail clients
// support each (caniemail's data, server/checks/caniemail.ts). The HTML is read by htmlparser2
// and every piece of CSS (<style> blocks and style attributes) by css-tree, never by regular
// expressions, so a feature is found by what it is (a declaration, a selector, a unit) and not by
// text that happens to look like it. Nothing is fetched: a remote stylesheet is counted and named,
// and the result says its CSS was not read.
import * as csstree from 'css-tree';
import { readTags } from './tags.js';
import { FEATURES, DATA_UPDATED, type ClientSupport, type SupportScore } from './caniemail.js';

/** Places shown per feature; the count says how many there are. */
const MAX_LOCATIONS = 5;
const SNIPPET_LENGTH = 80;

export interface SourceLocation {
  /** 1-based line and column in the HTML body (as decoded, the text the HTML tab shows). */
  line: number;
  column: number;
  snippet: string;
}

export interface FeatureUse {
  slug: string;
  title: string;
  category: string;
  description: string;
  /** caniemail.com's page for the feature (a link for people; never fetched). */
  url: string;
  count: number;
  locations: SourceLocation[];
  score: SupportScore;
  support: ClientSupport[];
}

export interface HtmlCheck {
  status: 'checked';
  /** Elements in the document, as Mailpit counts them (all but html, head and meta). */
  nodes: number;
  score: SupportScore;
  /** Worst first: by share of clients without support, weighted by how often the feature is used. */
  features: FeatureUse[];
  remoteStylesheets: { count: number; urls: string[]; read: false };
  data: { source: 'caniemail'; updated: string };
}

export class GaveUp extends Error {}

/** Every feature the HTML uses, with its support; throws GaveUp past `deadline` (a Date.now() value). */
export function checkHtml(html: string, deadline = Infinity): HtmlCheck {
  const found = new Found(html);
  const remote: string[] = [];
  let remoteCount = 0;
  let nodes = 0;
  const noteRemote = (url: string): void => {
    remoteCount++;
    if (remote.length < MAX_LOCATIONS) remote.push(url.slice(0, 200));
  };

  readTags(
    html,
    {
      tag(name, attribs, at) {
        if (name !== 'html' && name !== 'head' && name !== 'meta') nodes++;
        elementFeatures(name, attribs, at, found, noteRemote);
        if (attribs.style !== undefined && attribs.style.trim() !== '') checkCss(attribs.style, 'declarationList', at, found, noteRemote, deadline);
      },
      style(css, at) {
        if (css.trim() !== '') checkCss(css, 'stylesheet', at, found, noteRemote, deadline);
      },
      comment(at) {
        found.use('html-comments', at);
      },
      declaration(value, at) {
        if (/^doctype\s+html\s*$/i.test(value)) found.use('html-doctype', at);
      },
    },
    deadline,
    () => new GaveUp(),
  );

  const features = found.features();
  return {
    status: 'checked',
    nodes,
    score: overallScore(features, nodes),
    features: features.sort((a, b) => weight(b, nodes) - weight(a, nodes) || a.slug.localeCompare(b.slug)),
    remoteStylesheets: { count: remoteCount, urls: remote, read: false },
    data: { source: 'caniemail', updated: DATA_UPDATED },
  };
}

/** How much a feature weighs on the overall score: Mailpit's (unsupported + partial) x uses / nodes. */
function weight(f: FeatureUse, nodes: number): number {
  return ((f.score.unsupported + f.score.partial) * f.count) / Math.max(1, nodes);
}

/**
 * Mailpit's overall score: the worst single feature decides, each weighted by how often it is used
 * per element (a feature used once in a long mail weighs little, one on every element weighs all).
 */
function overallScore(features: FeatureUse[], nodes: number): SupportScore {
  let partial = 0;
  let unsupported = 0;
  const n = Math.max(1, nodes);
  for (const f of features) {
    partial = Math.max(partial, (f.score.partial * f.count) / n);
    unsupported = Math.max(unsupported, (f.score.unsupported * f.count) / n);
  }
  unsupported = Math.min(100, unsupported);
  partial = Math.min(100 - unsupported, partial);
  const round = (x: number): number => Math.round(x * 10) / 10;
  return { supported: round(100 - partial - unsupported), partial: round(partial), unsupported: round(unsupported) };
}

/** The uses found so far, by caniemail slug; a slug caniemail does not know is not recorded. */
class Found {
  readonly #html: string;
  readonly #uses = new Map<string, { count: number; offsets: number[] }>();
  #lineStarts: number[] | null = null;

  constructor(html: string) {
    this.#html = html;
  }

  use(slug: string, offset: number): void {
    if (!FEATURES.has(slug)) return;
    let u = this.#uses.get(slug);
    if (!u) this.#uses.set(slug, (u = { count: 0, offsets: [] }));
    u.count++;
    if (u.offsets.length < MAX_LOCATIONS && !u.offsets.includes(offset)) u.offsets.push(offset);
  }

  features(): FeatureUse[] {
    const out: FeatureUse[] = [];
    for (const [slug, u] of this.#uses) {
      const f = FEATURES.get(slug)!;
      out.push({
        slug,
        title: f.title,
        category: f.category,
        description: f.description,
        url: f.url,
        count: u.count,
        locations: u.offsets.map((o) => this.#locate(o)),
        score: f.score,
        support: f.support,
      });
    }
    return out;
  }

  #locate(offset: number): SourceLocation {
    const starts = (this.#lineStarts ??= lineStarts(this.#html));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const snippet = this.#html.slice(offset, offset + SNIPPET_LENGTH).replace(/\s+/g, ' ');
    return { line: lo + 1, column: offset - starts[lo]! + 1, snippet };
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

// --- HTML -------------------------------------------------------------------------------------

const SEMANTICS = ['article', 'aside', 'details', 'figcaption', 'figure', 'footer', 'header', 'main', 'mark', 'nav', 'section', 'summary', 'time'];
const ELEMENTS: Record<string, string> = {
  ...Object.fromEntries(SEMANTICS.map((e) => [e, 'html-semantics'])),
  ...Object.fromEntries(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((e) => [e, 'html-h1-h6'])),
  ...Object.fromEntries(['ul', 'ol', 'dl'].map((e) => [e, 'html-lists'])),
  map: 'html-image-maps',
};
for (const e of ['abbr', 'acronym', 'address', 'audio', 'base', 'bdi', 'blockquote', 'body', 'code', 'del', 'dfn', 'dialog', 'div', 'form', 'hr', 'img', 'link', 'marquee', 'meter', 'object', 'p', 'picture', 'pre', 'progress', 'rp', 'rt', 'ruby', 'select', 'small', 'span', 'strike', 'strong', 'style', 'svg', 'table', 'textarea', 'video', 'wbr']) {
  ELEMENTS[e] = `html-${e}`;
}

const ATTRIBUTES: Record<string, string> = {
  align: 'html-align',
  background: 'html-background',
  cellpadding: 'html-cellpadding',
  cellspacing: 'html-cellspacing',
  dir: 'html-dir',
  height: 'html-height',
  width: 'html-width',
  lang: 'html-lang',
  valign: 'html-valign',
  target: 'html-target',
  srcset: 'html-srcset',
  sizes: 'html-srcset',
  loading: 'html-loading-attribute',
  role: 'html-role',
  'aria-describedby': 'html-aria-describedby',
  'aria-hidden': 'html-aria-hidden',
  'aria-label': 'html-aria-label',
  'aria-labelledby': 'html-aria-labelledby',
  'aria-live': 'html-aria-live',
  hidden: 'html-hidden',
  required: 'html-required',
  popover: 'html-popover',
  inert: 'css-inert-attribute',
  usemap: 'html-image-maps',
};

const INPUT_TYPES = new Set(['checkbox', 'hidden', 'radio', 'reset', 'submit', 'text']);

/** Image formats by file extension (caniemail's image-* features). */
const IMAGE_EXTENSIONS: Record<string, string> = {
  png: 'image-png',
  apng: 'image-apng',
  jpg: 'image-jpg',
  jpeg: 'image-jpg',
  gif: 'image-gif',
  webp: 'image-webp',
  avif: 'image-avif',
  svg: 'image-svg',
  bmp: 'image-bmp',
  ico: 'image-ico',
  tif: 'image-tiff',
  tiff: 'image-tiff',
  heif: 'image-heif',
  heic: 'image-heif',
  hdr: 'image-hdr',
  mp4: 'image-mp4',
};

function elementFeatures(name: string, attribs: Readonly<Record<string, string>>, at: number, found: Found, noteRemote: (url: string) => void): void {
  const element = ELEMENTS[name];
  if (element) found.use(element, at);
  for (const attr of Object.keys(attribs)) {
    const feature = ATTRIBUTES[attr];
    if (feature) found.use(feature, at);
  }
  switch (name) {
    case 'html':
      if ('⚡4email' in attribs || 'amp4email' in attribs) found.use('amp', at);
      break;
    case 'a': {
      const href = (attribs.href ?? '').trim().toLowerCase();
      if (href.startsWith('#')) found.use('html-anchor-links', at);
      else if (href.startsWith('mailto:')) found.use('html-mailto-links', at);
      break;
    }
    case 'button': {
      // A button without a type is a submit button.
      const type = (attribs.type ?? 'submit').trim().toLowerCase();
      if (type === 'submit' || type === 'reset') found.use(`html-button-${type}`, at);
      break;
    }
    case 'input': {
      const type = (attribs.type ?? 'text').trim().toLowerCase();
      if (INPUT_TYPES.has(type)) found.use(`html-input-${type}`, at);
      break;
    }
    case 'meta':
      if ((attribs.name ?? '').trim().toLowerCase() === 'color-scheme') found.use('html-meta-color-scheme', at);
      break;
    case 'link':
      if (/(^|\s)stylesheet(\s|$)/i.test(attribs.rel ?? '') && attribs.href) noteRemote(attribs.href);
      break;
    case 'img':
      imageFormat(attribs.src ?? '', at, found);
      break;
  }
}

function imageFormat(src: string, at: number, found: Found): void {
  const value = src.trim();
  const data = /^data:image\/([a-z0-9.+-]+)[^,]*?(;base64)?,/i.exec(value);
  if (data) {
    if (data[2]) found.use('image-base64', at);
    const sub = data[1]!.toLowerCase().replace(/\+xml$/, '');
    const feature = IMAGE_EXTENSIONS[sub];
    if (feature) found.use(feature, at);
    return;
  }
  const path = value.split(/[?#]/, 1)[0]!;
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  const feature = ext ? IMAGE_EXTENSIONS[ext] : undefined;
  if (feature) found.use(feature, at);
}

// --- CSS --------------------------------------------------------------------------------------

/** Properties whose caniemail feature is not named `css-<property>`. */
const PROPERTY_FEATURES: Record<string, string[]> = {
  'row-gap': ['css-gap'],
  'column-gap': ['css-gap'],
  columns: ['css-column-layout-properties'],
  'column-fill': ['css-column-layout-properties'],
  'column-rule': ['css-column-layout-properties'],
  'column-rule-color': ['css-column-layout-properties'],
  'column-rule-style': ['css-column-layout-properties'],
  'column-rule-width': ['css-column-layout-properties'],
  'column-span': ['css-column-layout-properties'],
  'column-width': ['css-column-layout-properties'],
  'block-size': ['css-block-inline-size'],
  'inline-size': ['css-block-inline-size', 'css-inline-size'],
  left: ['css-left-right-top-bottom'],
  right: ['css-left-right-top-bottom'],
  top: ['css-left-right-top-bottom'],
  bottom: ['css-left-right-top-bottom'],
  'margin-block-start': ['css-margin-block-start-end'],
  'margin-block-end': ['css-margin-block-start-end'],
  'margin-inline-start': ['css-margin-inline-start-end'],
  'margin-inline-end': ['css-margin-inline-start-end'],
  'margin-inline': ['css-margin-inline-block'],
  'margin-block': ['css-margin-inline-block'],
  'padding-block-start': ['css-padding-block-start-end'],
  'padding-block-end': ['css-padding-block-start-end'],
  'padding-inline-start': ['css-padding-inline-start-end'],
  'padding-inline-end': ['css-padding-inline-start-end'],
  'padding-inline': ['css-padding-inline-block'],
  'padding-block': ['css-padding-inline-block'],
  'border-inline': ['css-border-inline-block'],
  'border-block': ['css-border-inline-block'],
  'text-size-adjust': [],
};

/** Families of longhands that caniemail counts under their shorthand's feature. */
const SHORTHAND_FAMILIES = ['background', 'border', 'margin', 'padding', 'outline', 'list-style', 'text-decoration', 'overflow', 'animation', 'transition', 'grid-template', 'text-emphasis', 'inset', 'transform', 'mask'];

function propertyFeatures(property: string): string[] {
  const name = property.replace(/^-(webkit|moz|ms|o)-/, '');
  const listed = PROPERTY_FEATURES[name];
  if (listed) return listed;
  if (FEATURES.has(`css-${name}`)) return [`css-${name}`];
  if (/^border-(start|end)-(start|end)-radius$/.test(name)) return ['css-border-radius-logical'];
  if (/^border-(top|bottom)-(left|right)-radius$/.test(name)) return ['css-border-radius'];
  if (/^border-(inline|block)-(start|end)-(color|style|width)$/.test(name)) return ['css-border-inline-block-longhand'];
  if (/^border-(inline|block)-(color|style|width|start|end)$/.test(name)) return ['css-border-inline-block-individual'];
  if (/^scroll-(snap|padding|margin)/.test(name)) return ['css-scroll-snap'];
  for (const family of SHORTHAND_FAMILIES) {
    if (name.startsWith(family + '-') && FEATURES.has(`css-${family}`)) return [`css-${family}`];
  }
  return [];
}

const FUNCTIONS: Record<string, string> = {
  calc: 'css-unit-calc',
  clamp: 'css-function-clamp',
  min: 'css-function-min',
  max: 'css-function-max',
  'light-dark': 'css-function-light-dark',
  rgb: 'css-rgb',
  rgba: 'css-rgba',
  'linear-gradient': 'css-linear-gradient',
  'repeating-linear-gradient': 'css-linear-gradient',
  'radial-gradient': 'css-radial-gradient',
  'repeating-radial-gradient': 'css-radial-gradient',
  'conic-gradient': 'css-conic-gradient',
  'repeating-conic-gradient': 'css-conic-gradient',
  var: 'css-variables',
  lch: 'css-modern-color',
  oklch: 'css-modern-color',
  lab: 'css-modern-color',
  oklab: 'css-modern-color',
};

const SYSTEM_FONTS = new Set(['system-ui', 'ui-serif', 'ui-sans-serif', 'ui-rounded', 'ui-monospace']);
const INTRINSIC_SIZES = new Set(['fit-content', 'min-content', 'max-content']);
/** Pseudo-elements written with one colon, as CSS 2 did. */
const LEGACY_PSEUDO_ELEMENTS = new Set(['before', 'after', 'first-letter', 'first-line']);
const COMBINATORS: Record<string, string> = { '>': 'css-selector-child', '+': 'css-selector-adjacent-sibling', '~': 'css-selector-general-sibling', ' ': 'css-selector-descendant' };

function mediaFeature(name: string): string | null {
  const n = name.toLowerCase();
  if (n === 'prefers-color-scheme') return 'css-at-media-prefers-color-scheme';
  if (n === 'prefers-reduced-motion') return 'css-at-media-prefers-reduced-motion';
  if (n === 'orientation') return 'css-at-media-orientation';
  if (n === 'hover' || n === 'any-hover') return 'css-at-media-hover';
  if (n.endsWith('device-pixel-ratio')) return 'css-at-media-device-pixel-ratio';
  return null;
}

/**
 * The CSS features of a style sheet or a style attribute. `base`: where the CSS starts in the
 * HTML (the offset of the style attribute's element, whose exact attribute place the parser does
 * not give, or of the <style> element's text).
 */
function checkCss(css: string, context: 'stylesheet' | 'declarationList', base: number, found: Found, noteRemote: (url: string) => void, deadline: number): void {
  try {
    walkCss(css, context, base, found, noteRemote, deadline);
  } catch (err) {
    // css-tree recurses: CSS nested deeper than the stack is skipped, as a browser caps it too.
    if (err instanceof GaveUp || !(err instanceof RangeError)) throw err;
  }
}

function walkCss(css: string, context: 'stylesheet' | 'declarationList', base: number, found: Found, noteRemote: (url: string) => void, deadline: number): void {
  const inline = context === 'declarationList';
  const at = (node: csstree.CssNode): number => (inline ? base : base + (node.loc?.start.offset ?? 0));
  const ast = parserFor(css.length)(css, {
    context,
    positions: !inline,
    onComment: (_value, loc) => found.use('css-comments', inline ? base : base + loc.start.offset),
    // css-tree recovers from bad CSS as a browser does; what it could not read is skipped.
    onParseError: () => undefined,
  });
  let ruleDepth = 0;
  let visited = 0;
  csstree.walk(ast, {
    enter(this: csstree.WalkContext, node: csstree.CssNode) {
      if ((++visited & 0x3ff) === 0 && Date.now() > deadline) throw new GaveUp();
      const inKeyframes = this.atrule !== null && /keyframes$/i.test(this.atrule.name);
      switch (node.type) {
        case 'Atrule': {
          const name = node.name.toLowerCase().replace(/^-(webkit|moz|ms|o)-/, '');
          if (name === 'media' || name === 'font-face' || name === 'import' || name === 'keyframes' || name === 'supports') found.use(`css-at-${name}`, at(node));
          if (name === 'import') noteRemote(csstree.generate(node.prelude ?? { type: 'Raw', value: '' }));
          break;
        }
        case 'Feature': {
          const feature = mediaFeature(node.name);
          if (feature) found.use(feature, at(node));
          break;
        }
        case 'FeatureRange': {
          const feature = node.middle.type === 'Identifier' ? mediaFeature(node.middle.name) : node.left.type === 'Identifier' ? mediaFeature(node.left.name) : null;
          if (feature) found.use(feature, at(node));
          break;
        }
        case 'Rule':
          if (ruleDepth > 0) found.use('css-nesting', at(node));
          ruleDepth++;
          break;
        case 'SelectorList':
          if (!inKeyframes && node.children.size > 1) found.use('css-selector-grouping', at(node));
          break;
        case 'Selector':
          if (!inKeyframes && chains(node)) found.use('css-selector-chaining', at(node));
          break;
        case 'TypeSelector':
          if (!inKeyframes) found.use(node.name === '*' ? 'css-selector-universal' : 'css-selector-type', at(node));
          break;
        case 'IdSelector':
          found.use('css-selector-id', at(node));
          break;
        case 'ClassSelector':
          found.use('css-selector-class', at(node));
          break;
        case 'AttributeSelector':
          found.use('css-selector-attribute', at(node));
          break;
        case 'Combinator': {
          const feature = COMBINATORS[node.name.trim() || ' '];
          if (feature) found.use(feature, at(node));
          break;
        }
        case 'PseudoClassSelector': {
          const name = node.name.toLowerCase();
          found.use(LEGACY_PSEUDO_ELEMENTS.has(name) ? `css-pseudo-element-${name}` : `css-pseudo-class-${name}`, at(node));
          break;
        }
        case 'PseudoElementSelector':
          found.use(`css-pseudo-element-${node.name.toLowerCase()}`, at(node));
          break;
        case 'Declaration': {
          const property = node.property.toLowerCase();
          if (property.startsWith('--')) found.use('css-variables', at(node));
          else for (const feature of propertyFeatures(property)) found.use(feature, at(node));
          if (node.important) found.use('css-important', at(node));
          if (property === 'display' && node.value.type === 'Value') {
            for (const v of node.value.children) {
              if (v.type !== 'Identifier') continue;
              const keyword = v.name.toLowerCase();
              if (keyword === 'flex' || keyword === 'inline-flex') found.use('css-display-flex', at(node));
              else if (keyword === 'grid' || keyword === 'inline-grid') found.use('css-display-grid', at(node));
              else if (keyword === 'none') found.use('css-display-none', at(node));
            }
          }
          break;
        }
        case 'Dimension':
          if (this.declaration) found.use(`css-unit-${node.unit.toLowerCase()}`, at(this.declaration));
          break;
        case 'Percentage':
          if (this.declaration) found.use('css-unit-percent', at(this.declaration));
          break;
        case 'Function': {
          const feature = FUNCTIONS[node.name.toLowerCase().replace(/^-(webkit|moz|ms|o)-/, '')];
          if (feature && this.declaration) found.use(feature, at(this.declaration));
          break;
        }
        case 'Identifier': {
          if (!this.declaration) break;
          const keyword = node.name.toLowerCase();
          if (keyword === 'initial') found.use('css-unit-initial', at(this.declaration));
          else if (INTRINSIC_SIZES.has(keyword)) found.use('css-intrinsic-size', at(this.declaration));
          else if (SYSTEM_FONTS.has(keyword) && /^font(-family)?$/.test(this.declaration.property.toLowerCase())) found.use('css-sytem-ui', at(this.declaration));
          break;
        }
      }
    },
    leave(node: csstree.CssNode) {
      if (node.type === 'Rule') ruleDepth--;
    },
  });
}

/**
 * css-tree's parser keeps its token buffers at the size of the largest CSS it has parsed, and
 * clears them whole on every parse: after one 1.6 MB <style>, each of 100,000 style attributes
 * cost a 1.6 MB fill (40 s where 1 s is due). So CSS is parsed by a parser of its size class: the
 * shared one for small CSS (its buffers stay at their 16K minimum), one per class of 4x up to
 * 1 MB, kept, and a fresh one (dropped after) above that. A parse then costs at most 4x its size.
 */
const SMALL_CSS = 15 * 1024;
const KEPT_CSS_PARSER = 1024 * 1024;
type CssParse = typeof csstree.parse;
const parsersBySize = new Map<number, CssParse>();

function parserFor(length: number): CssParse {
  if (length <= SMALL_CSS) return csstree.parse;
  let size = 64 * 1024;
  while (size < length) size *= 4;
  if (size > KEPT_CSS_PARSER) return csstree.fork({}).parse;
  let parse = parsersBySize.get(size);
  if (!parse) parsersBySize.set(size, (parse = csstree.fork({}).parse));
  return parse;
}

/** `.foo.bar`: two or more classes, ids or attribute tests on one element. */
function chains(selector: csstree.Selector): boolean {
  let run = 0;
  for (const part of selector.children) {
    if (part.type === 'Combinator') run = 0;
    else if (part.type === 'ClassSelector' || part.type === 'IdSelector' || part.type === 'AttributeSelector') {
      if (++run >= 2) return true;
    }
  }
  return false;
}
