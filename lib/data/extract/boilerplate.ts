// Signals that an element is page furniture rather than content, after trafilatura's and
// Readability's: its tag and ARIA role, its class/id words, and for a short block its words
// (teaser, dateline, byline, copyright, footer-link and member-statistics lines, in several
// languages) and its links (link density, "read more" cards). Each predicate looks at one
// element or line; main-content.ts decides where they apply.
import type { TextNode } from './html-text.js';

export interface Element extends TextNode {
  id: string;
  className: string;
  textContent: string | null;
  parentElement: Element | null;
  nextElementSibling: Element | null;
  previousElementSibling: Element | null;
  remove(): void;
  replaceWith(...nodes: TextNode[]): void;
  closest(selector: string): Element | null;
  contains(node: unknown): boolean;
  querySelector(selector: string): Element | null;
  querySelectorAll(selector: string): ArrayLike<Element>;
  getElementsByTagName(name: string): ArrayLike<Element>;
  getAttribute(name: string): string | null;
  getAttributeNode(name: string): { value: string } | null;
  removeAttribute(name: string): void;
}

export interface Root {
  querySelector(selector: string): Element | null;
  querySelectorAll(selector: string): ArrayLike<Element>;
}

const CAMEL_CASE = /([a-z])([A-Z])/g;

/**
 * The class attribute as written: linkedom's `className`, and its `getAttribute('class')` too,
 * build a token set on every call.
 */
export function classOf(el: Element): string {
  return el.getAttributeNode('class')?.value ?? '';
}

/** An element's id and class words; camelCase is split (`recipeCopyright` → `recipe-Copyright`). */
export function marks(el: Element): string {
  const text = `${el.getAttribute('id') ?? ''} ${classOf(el)}`;
  return /[A-Z]/.test(text) ? text.replace(CAMEL_CASE, '$1-$2') : text;
}

/** A text with its runs of white space as one space. */
export const squash = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').trim();

const words = (alternatives: string) => new RegExp(`(^|[\\s_-])(${alternatives})($|[\\s_-])`, 'i');

// Class/id words that mark page furniture rather than content.
const BOILERPLATE = words('nav|navbar|navigation|menu|menubar|breadcrumbs?|footer|site-?footer|masthead|sidebar|side-?bar|widgets?|cookies?|cookie-?banner|consent|gdpr|banner|share|sharing|sharedaddy|social|socials|social-?media|related|related-?posts|recommended|newsletter|subscribe|subscription|advert|advertisement|ads?|adsense|sponsor(ed)?|promo|popup|modal|overlay|pagination|pager|tag-?cloud|tags|author-?bio|login|signup|search|skip-?link|print|toolbar|rating');
// Stems that mark furniture wherever they appear in a class or id (`postfooter`, `relatedArticles`,
// `shariff`, `mainmenu`), as trafilatura matches them.
const BOILERPLATE_STEMS = /footer|related|social|sharing|sharebar|share-|-share|shariff|sidebar|breadcrumb|newsletter|widget|navbar|navigation|subnav|mainmenu|menu-|-menu|cookie|tagcloud|tag-?list|taglist|outbrain|taboola|most-?popular|most-?read|posts?-?list|list-?posts|more-?(posts|articles|stories|news)|similar-?(posts|articles)/i;
// `cmp` is a consent management platform's box (`cmp-banner`, `cmpbox`), but Adobe's core
// components name every block `cmp-…` (`cmp-container`, `cmp-text`): only the consent kinds count.
export const COOKIE = /cookie|consent|gdpr|cmp-?(box|banner|dialog|popup|modal|wrapper|overlay)|(^|\s)cmp($|\s)|onetrust|cc-window|privacy-?banner/i;
// Boxes drawn over the page or pushed into it: pop-ups, modals, newsletter and paywall prompts.
// They can hold more text than one forum post or product blurb, and Readability then picks them.
export const OVERLAY = /(^|[\s_-])(pop-?up|modal|overlay|lightbox|interstitial)s?($|[\s_-])|newsletter|paywall|subscribe-?(box|form|modal|prompt|wall)|signup-?(box|form|modal)|exit-?intent/i;
// A box drawn over the whole viewport by utility classes (Tailwind's `fixed inset-0`, or `fixed`
// with `top-0 right-0 bottom-0 left-0`): a dialog, a drawer or a "takeover" (a size chart, a
// back-in-stock form, a mobile menu, a policy shown on click) that names itself by position only.
const FIXED = /(^|\s)fixed(\s|$)/;
const INSET_0 = /(^|\s)inset-0(\s|$)/;
const EDGES_0 = [/(^|\s)top-0(\s|$)/, /(^|\s)right-0(\s|$)/, /(^|\s)bottom-0(\s|$)/, /(^|\s)left-0(\s|$)/];

/** A full-viewport overlay by its utility classes (`fixed inset-0`): removed with the pop-ups. */
export function isViewportOverlay(el: Element): boolean {
  const c = classOf(el);
  return FIXED.test(c) && (INSET_0.test(c) || EDGES_0.every((edge) => edge.test(c)));
}
const COMMENTS = words('comments?|comment-?list|commentlist|disqus|discussion|respond|replies|reply');
const BOILERPLATE_TAGS = new Set(['nav', 'footer', 'aside', 'form', 'menu', 'dialog']);
const BOILERPLATE_ROLES = /^(navigation|banner|contentinfo|complementary|search|dialog|alertdialog|menu|menubar)$/i;
const HIDDEN_STYLE = /display\s*:\s*none|visibility\s*:\s*hidden/i;

/** Page and article wrappers: never removed for their class words (`<body class="has-sidebar">`). */
export const WRAPPERS = new Set(['html', 'body', 'main', 'article']);

export function isHidden(el: Element): boolean {
  const style = el.getAttribute('style');
  return el.getAttribute('hidden') !== null || el.getAttribute('aria-hidden') === 'true' || (style !== null && HIDDEN_STYLE.test(style));
}

// A store's customer reviews: a product page's comment section, by its class words or the review
// widgets' own names (Yotpo, Judge.me, Okendo, Stamped, Bazaarvoice, Trustpilot, Reviews.io).
const REVIEWS = /(^|[\s_-])(reviews|review-?list|customer-?reviews?|product-?reviews?|user-?reviews?|ratings-?reviews|testimonials?)($|[\s_-])|yotpo|jdgm|judgeme|okendo|stamped|(^|\s)bv-|bazaarvoice|trustpilot|revsp|reviews-?io/i;

/** Comment sections, and on a product page (`reviews`) its customer reviews. */
export function isComments(el: Element, reviews = false): boolean {
  const m = marks(el);
  return COMMENTS.test(m) || (reviews && REVIEWS.test(m));
}

export function isDialog(el: Element): boolean {
  return /^(dialog|alertdialog)$/i.test(el.getAttribute('role') ?? '');
}

function isInsideArticle(el: Element): boolean {
  for (let node = el.parentElement; node; node = node.parentElement) {
    if (node.localName === 'article' || node.localName === 'main') return true;
  }
  return false;
}

/**
 * A form control's label, also outside a <form>: a product's size and colour pickers, a contact
 * form's fields. A checkbox's label is kept: recipes and checklists tick off their lines. Read
 * before Readability runs, which removes the inputs.
 */
export function isControlLabel(el: Element): boolean {
  const isCheckbox = (input: Element | null) => input?.localName === 'input' && input.getAttribute('type')?.toLowerCase() === 'checkbox';
  return !isCheckbox(el.previousElementSibling) && !isCheckbox(el.nextElementSibling) && !Array.from(el.getElementsByTagName('input')).some(isCheckbox);
}

// A skip link's words: "Skip to content", "Skip to search results", "Zum Inhalt springen".
const SKIP_LINK = /^(skip to\b|zum (haupt)?inhalt|aller au contenu|passer au contenu|przejdź do (treści|zawartości)|saltar al contenido)/i;

/**
 * A skip link: a link to a place on the same page that keyboard users take past the menus
 * ("Skip to content"). It is shown only on focus, and names no content; some sites do not name it
 * `skip-link`, only `sr-only`.
 */
export function isSkipLink(el: Element): boolean {
  return el.localName === 'a' && (el.getAttribute('href') ?? '').startsWith('#') && SKIP_LINK.test(squash(el.textContent));
}

/** Furniture by tag, role or class: navigation, footers, sidebars, banners, comments. */
export function isBoilerplate(el: Element, keepComments: boolean): boolean {
  const name = el.localName ?? '';
  if (BOILERPLATE_TAGS.has(name)) return true;
  if (name === 'header' && !isInsideArticle(el)) return true;
  const role = el.getAttribute('role');
  if (role && BOILERPLATE_ROLES.test(role)) return true;
  const m = marks(el);
  if (BOILERPLATE.test(m) || BOILERPLATE_STEMS.test(m)) return true;
  return !keepComments && COMMENTS.test(m);
}

// Inside an article: captions and photo credits, bylines and post metadata, author boxes; a Q&A
// post's signature and user card (Stack Exchange's `post-signature`, `user-info`: "asked …", name,
// reputation and badge counts, which references leave out).
const ARTICLE_FURNITURE = words('wp-caption-text|captions?|credits?|byline|postmetadata|post-?meta|entry-?meta|entry-utility|article-?meta|meta-?data|author|author-?box|author-?info|author-?description|about-?author|sabox\\w*|post-?ratings?|likes|sources|paywall|read-?more|more-?link|next-?post|nextstory|prev-?next|alerts?|notices?|cta|copyright|disclaimer|loading|wishlist|cart|post-?signature|user-?info');
// The same, matched anywhere in a class or id (`postauthor`, `article-byline-name`, `shareButtons`).
const ARTICLE_FURNITURE_STEMS = /author|byline|dateline|timestamp|caption|credit|copyright|disclaimer|paywall|rating|share|social|button|breadcrumb|newsletter|subscri|signup|sign-up|login|advert|sponsor|promo|tags|tag-?list/i;
const ARTICLE_FURNITURE_TAGS = new Set(['figcaption']);

// Captions, bylines and author boxes are short; a long element with such a class is a wrapper
// (`<article class="author-jane">`).
const ARTICLE_FURNITURE_MAX_CHARS = 800;

export function isArticleFurniture(el: Element): boolean {
  if (WRAPPERS.has(el.localName ?? '')) return false;
  if (!ARTICLE_FURNITURE_TAGS.has(el.localName ?? '')) {
    const m = marks(el);
    if (!ARTICLE_FURNITURE.test(m) && !ARTICLE_FURNITURE_STEMS.test(m)) return false;
  }
  return squash(el.textContent).length <= ARTICLE_FURNITURE_MAX_CHARS;
}

// Lines that introduce furniture rather than content: "read also", "related", share and subscribe prompts.
const TEASER = /^(related( articles| posts| stories| content)?|read (more|also|next)|see also|more (from|on|stories|articles)|you (may|might) also like|recommended( for you)?|share (this|on|the article)|follow us|sign up|subscribe|advertisement|sponsored|lesen sie (auch|mehr|hier)|auch interessant|mehr zum thema|(das|dies)( \p{L}+)? könnte (dich|sie|euch) auch interessieren|weiterführende[rn]? links?|weiterlesen|artikel teilen|möchten sie (den|diesen) artikel teilen|war (der|dieser) artikel (nützlich|hilfreich)|anzeige|empfohlene (beiträge|artikel)|ähnliche (beiträge|artikel)|à lire (aussi|également)|lire aussi|lire la suite|sur le même sujet|pour lire la suite|czytaj (też|także|więcej)|zobacz (też|także|również)|lee también|leer más|te puede interesar|never miss|sign up for|load more|show more|lade weitere|mehr anzeigen|weiter zu|newsletter abonnieren|jetzt abonnieren|most (read|popular|viewed|shared)|meistgelesen|am meisten gelesen|(articles )?les plus (lus|populaires)|najczęściej (czytane|komentowane)|lo más leído|(artículos )?más leídos|i più letti|abonnez-vous|subskrybuj|zapraszamy (też |także )?do (subskrypcji|prenumeraty)|suscríbete|abonnieren sie|(photo|image|picture) (credit|by|via)|(foto|bild) via|photograph by|crédits? photos?)\b/iu;
const TEASER_MAX_CHARS = 80;

/** A line that announces furniture ("Read also: …", "Related articles"). */
export function isTeaserLine(line: string): boolean {
  const words = line.replace(/^[^\p{L}]+/u, '');
  return words.length <= TEASER_MAX_CHARS && TEASER.test(words);
}

const MONTHS = 'jan(uary|uar)?|feb(ruary|ruar)?|m(ar(ch)?|ärz|aerz)|apr(il)?|ma[iy]|june?|juni|july?|juli|aug(ust)?|sep(t(ember)?)?|o[ck]t(ober)?|nov(ember)?|de[cz](ember)?|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|stycze[nń]|stycznia|lut(y|ego)|marca|marzec|kwie(cie[nń]|tnia)|maj(a)?|czerw(iec|ca)|lip(iec|ca)|sierp(ie[nń]|nia)|wrze(sie[nń]|[sś]nia)|pa[zź]dziernik(a)?|listopad(a)?|grud(zie[nń]|nia)|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre';
const DATE = new RegExp(`\\b(\\d{1,4}[./-]\\d{1,2}[./-]\\d{1,4}|(\\d{1,2}\\.? ?)?(${MONTHS})\\.?,? \\d{1,4}(,? \\d{4})?)\\b`, 'iu');
// Words that go with a date in a dateline: "Posted on", "Stand:", "Last modified", "Publié le".
const DATELINE_WORDS = new RegExp(`(?<!\\p{L})(${MONTHS}|posted|published|updated|last|modified|created|on|at|am|um|uhr|stand|veröffentlicht|aktualisiert|zuletzt|erstellt|publié|mis à jour|le|à|opublikowano|zaktualizowano|dnia|publicado|actualizado|el|pubblicato|il|[ap]\\.?m\\.?|gmt|utc|cet|cest|mez|mesz|edt|est|pst|pdt|bst|monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)(?!\\p{L})`, 'giu');
const DATELINE_MAX_CHARS = 80;

/** A line that is only a date or a dateline ("Posted on 3 May 2020, 14:05", "16 marca 2021"). */
export function isDateLine(line: string): boolean {
  if (line.length > DATELINE_MAX_CHARS || !DATE.test(line)) return false;
  return line.replace(DATELINE_WORDS, '').replace(/[^\p{L}]+/gu, '').length <= 2;
}

// A relative age: "3 hrs ago", "a year ago", "11 years, 9 months ago".
const AGE_UNIT = '(sec(ond)?|min(ute)?|h(ou)?r|day|week|wk|month|mo|year|yr)s?';
const RELATIVE_AGE = new RegExp(`(?<!\\p{L})(\\d+|an?|one) ${AGE_UNIT}(,? (and )?\\d+ ${AGE_UNIT})* ago(?!\\p{L})`, 'giu');
// Words that go with an age in a post's or an item's metadata line: "Asked 7 years ago",
// "Modified 1 year ago", "posted 6 years ago", "Active 3 days ago", "Updated an hour ago".
const AGE_LINE_WORDS = /(?<!\p{L})(asked|modified|posted|published|updated|edited|active|viewed|submitted|answered|created|last|seen|joined)(?!\p{L})/giu;
// A link aggregator's line under each item: score, submitter, age and actions ("1 point by breve
// 0 minutes ago | hide | past | discuss", "12 votes by jane 3 hours ago").
const VOTE_LINE = new RegExp(`^\\d[\\d,]* (points?|votes?) by \\S+ (\\d+|an?|one) ${AGE_UNIT} ago\\b`, 'iu');

/**
 * A line that is only how long ago something was posted ("3 hrs ago", "Asked 11 years, 9 months
 * ago"), or a link aggregator's score-submitter-age line: item and post metadata that listing
 * and thread references leave out, as the dateline rule leaves out absolute dates.
 */
export function isAgeLine(line: string): boolean {
  if (line.length > DATELINE_MAX_CHARS || !/ ago\b/i.test(line)) return false;
  if (VOTE_LINE.test(line)) return true;
  const rest = line.replace(RELATIVE_AGE, '\u0000');
  if (!rest.includes('\u0000')) return false;
  return rest.replace(AGE_LINE_WORDS, '').replace(/[^\p{L}]+/gu, '').length <= 2;
}

// "By Jane Doe", "Von Max Muster und Erika Muster", "Foto: dpa": a short line naming who wrote or
// photographed. The words after the marker must read as names (capitalized, or joiners such as
// "and", "von"), so that a heading like "Von Berlin nach Hamburg" is kept.
const BYLINE_MARKER = /^(by|von|par|por|di|door|przez|autor|autorin|author|text|texte|tekst|foto|fotos|photo|photos|bild|bilder|fot|zdjęcia|credit|quelle|source)\b\s*[:.]?\s+(.+)$/iu;
const NAME_JOINERS = new Set(['and', 'und', 'et', 'i', 'y', 'e', '&', 'sowie', 'de', 'van', 'von', 'der', 'den', 'la', 'le', 'du', 'di', 'da', '/', '|', '-', '–']);
const BYLINE_MAX_CHARS = 60;

/** A byline ("By Jane Doe", "Foto: dpa"). */
export function isBylineLine(line: string): boolean {
  if (line.length > BYLINE_MAX_CHARS) return false;
  const names = BYLINE_MARKER.exec(line)?.[2];
  if (!names || /[.!?]$/.test(names)) return false;
  return names.split(/[\s,]+/).every((word) => word === '' || /^\p{Lu}/u.test(word) || NAME_JOINERS.has(word));
}

const COPYRIGHT = /^(©|\(c\)|copyright\b)|all rights reserved|alle rechte vorbehalten|tous droits réservés|wszelkie prawa zastrzeżone|todos los derechos reservados|tutti i diritti riservati/i;
const COPYRIGHT_MAX_CHARS = 200;

/** A copyright notice ("© 2020 Example Ltd. All rights reserved."). */
export function isCopyrightLine(line: string): boolean {
  return line.length <= COPYRIGHT_MAX_CHARS && COPYRIGHT.test(line);
}

// Links every site repeats in its footer, in several languages.
const LEGAL = /(?<!\p{L})(impressum|imprint|datenschutz(erklärung)?|privacy( policy)?|terms( of (use|service))?|nutzungsbedingungen|agb|cookies?( policy| settings)?|kontakt|contact( us)?|sitemap|disclaimer|haftungsausschluss|mentions légales|confidentialité|cgu|cgv|polityka prywatności|regulamin|aviso legal|política de privacidad|about us|über uns|barrierefreiheit|accessibility)(?!\p{L})/giu;
const LEGAL_MAX_CHARS = 200;

/** A line of footer links: "Impressum | Datenschutz | Kontakt". */
export function isLegalLine(line: string): boolean {
  if (line.length > LEGAL_MAX_CHARS) return false;
  const found = new Set(Array.from(line.matchAll(LEGAL), (m) => m[0].toLowerCase()));
  return found.size >= 2;
}

// A forum member's statistics beside each post ("Posts: 4958", "Joined: Mon Jul 24, 2017 9:28 am",
// "Registered: 2024-01-27", "1,430 posts · Joined 2022"): a label, then a count or a date.
const MEMBER_STATS = /^(posts|messages|joined|registered|member since|reputation|reaction score|points|likes received|beiträge|registriert|mitglied seit|dabei seit|inscrit le|inscription|publications|wiadomości|dołączył|posty|mensajes|registrado)(\s*:\s*|\s+)(.+)$/iu;
const POSTS_AND_JOINED = /^[\d.,]+k?\s+(posts|messages)\s*[·•|,-]\s*joined\s+\d{4}$/iu;
const COUNT = /^[\d.,]+k?$/i;
const MEMBER_STATS_MAX_CHARS = 60;

/** A forum member's statistics line ("Posts: 4958", "Joined: Jul 2012"). */
export function isMemberStatsLine(line: string): boolean {
  // every such line has a count or a date in it
  if (line.length > MEMBER_STATS_MAX_CHARS || !/\d/.test(line)) return false;
  if (POSTS_AND_JOINED.test(line)) return true;
  const stats = MEMBER_STATS.exec(line);
  if (!stats) return false;
  const value = stats[3]!;
  // "Posts 12" or "Posts: 12"; a date only after a colon ("Joined: 4. Jul 2012")
  return COUNT.test(value) || (stats[2]!.includes(':') && DATE.test(value));
}

const READ_MORE = /^(read (more|on|the full (story|article))|continue reading|more|weiterlesen|mehr( lesen| erfahren)?|zum (artikel|beitrag)|lire (la suite|plus)|en savoir plus|czytaj (dalej|więcej)|więcej|leer más|seguir leyendo|continua a leggere|leggi (tutto|di più))\W*$/iu;
const TEASER_CARD_TAGS = new Set(['div', 'li', 'article', 'section', 'p']);

/** The excerpt of another page: a short block that ends in a "read more" link. */
function isTeaserCard(name: string, links: ArrayLike<Element>): boolean {
  return TEASER_CARD_TAGS.has(name) && READ_MORE.test(squash(links[links.length - 1]!.textContent));
}

function linkedLength(links: ArrayLike<Element>): number {
  let linked = 0;
  for (let i = 0; i < links.length; i++) linked += squash(links[i]!.textContent).length;
  return linked;
}

const LINK_DENSE_TAGS = new Set(['p', 'ul', 'ol', 'dl', 'div', 'section', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const LINK_DENSITY = 0.8;

/**
 * A short block whose text is mostly links: a headline linking to another story, "Prev · Next",
 * a row of tag or category links. The length limit is larger for the last block of its parent,
 * where link lists to other pages gather. Long blocks are prose with links in it, and are kept.
 */
function isLinkDense(el: Element, name: string, length: number, linked: number): boolean {
  if (!LINK_DENSE_TAGS.has(name)) return false;
  const last = el.nextElementSibling === null;
  const limit = name === 'p' ? (last ? 60 : 30) : last ? 300 : 100;
  return length < limit && linked > LINK_DENSITY * length;
}

const LINK_LIST_TAGS = new Set(['ul', 'ol', 'div', 'p', 'section', 'table', 'nav']);
const LINK_LIST_MAX_CHARS = 300;
const LINK_LIST_DENSITY = 0.6;

/** A block of at most 300 characters that is mostly link text (--favor precision). */
function isLinkList(name: string, length: number, linked: number): boolean {
  return LINK_LIST_TAGS.has(name) && length <= LINK_LIST_MAX_CHARS && linked > LINK_LIST_DENSITY * length;
}

const SIDEBAR_NAMES = /^(sidebar|side-?bar|secondary|aside)$/i;

/**
 * A block named the sidebar and nothing else (`id="sidebar"`, WordPress's `id="secondary"`): it sits
 * beside the content, so it is furniture however much text it holds, unless it holds the page's
 * heading or article. `<aside>` does not count: some sites wrap the whole thread in one.
 */
function isSidebar(el: Element): boolean {
  const named = SIDEBAR_NAMES.test(el.getAttribute('id') ?? '') || SIDEBAR_NAMES.test(classOf(el).trim());
  return named && el.getElementsByTagName('h1').length === 0 && el.getElementsByTagName('main').length === 0 && el.getElementsByTagName('article').length === 0;
}

const LANDMARK_ROLES = /^(navigation|banner|contentinfo)$/i;

/**
 * The page's navigation, header or footer by its tag or ARIA role (`<nav>`, a `<header>` or
 * `<footer>` outside the article, `role="navigation"`): a store's mega menu or a footer listing
 * every city served can hold more text than the product grid or the listing beside it, yet it is
 * furniture whatever its share, unless it holds the page's heading, `<main>` or `<article>` (a
 * page wrapped whole in one).
 */
function isPageLandmark(el: Element): boolean {
  const name = el.localName ?? '';
  const role = el.getAttribute('role');
  const landmark = name === 'nav' || ((name === 'header' || name === 'footer') && !isInsideArticle(el)) || (role !== null && LANDMARK_ROLES.test(role));
  return landmark && el.getElementsByTagName('h1').length === 0 && el.getElementsByTagName('main').length === 0 && el.getElementsByTagName('article').length === 0;
}

// Furniture is small: an element with more than this share of the text around it is content
// (a block named the sidebar excepted, see isSidebar).
export const MAX_FURNITURE_SHARE = 0.4;
// `dd`: forum software lists a member's statistics as a definition list.
const LINE_TAGS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'div', 'span', 'strong', 'b', 'small', 'li', 'section', 'aside', 'time', 'address', 'dd']);
// The line and link rules are for short blocks; longer ones are not read further. The first
// bound is on the raw text, which has the source's indentation in it.
const SHORT_BLOCK_CHARS = 500;
const SHORT_BLOCK_RAW_CHARS = 8 * SHORT_BLOCK_CHARS;
const SHORT_BLOCK_TAGS = new Set([...LINE_TAGS, ...LINK_DENSE_TAGS, ...TEASER_CARD_TAGS, ...LINK_LIST_TAGS]);

export interface FurnitureOptions {
  keepComments: boolean;
  /** Also drop short link lists (--favor precision). */
  linkLists: boolean;
  /**
   * Read short blocks' words and links (teaser, dateline, byline lines, link density). Off for
   * the text of a listing page, whose items are short blocks made of a linked title.
   */
  shortBlocks: boolean;
  /** Length of the text the element is part of (the page, the article). */
  scopeLength: number;
}

/**
 * Whether an element is furniture to leave out of the text: by its tag, role or class (unless it
 * holds a large share of the text around it), or, for a short block, by its words (teaser line,
 * dateline, copyright, footer links) or its links (a "read more" card, link density).
 */
export function isFurniture(el: Element, opts: FurnitureOptions): boolean {
  const name = el.localName ?? '';
  const boilerplate = isBoilerplate(el, opts.keepComments);
  // Reading an element's text costs a walk of its subtree: only for candidates.
  if (!boilerplate && !SHORT_BLOCK_TAGS.has(name)) return false;
  const raw = el.textContent ?? '';
  if (boilerplate && (raw.length <= MAX_FURNITURE_SHARE * opts.scopeLength || isSidebar(el) || isPageLandmark(el))) return true;
  // An age line is no item's title or blurb: it goes from the list reading too.
  if (!opts.shortBlocks) return LINE_TAGS.has(name) && raw.length <= SHORT_BLOCK_RAW_CHARS && raw.includes(' ago') && isAgeLine(squash(raw));
  if (raw.length > SHORT_BLOCK_RAW_CHARS) return false;
  const text = squash(raw);
  if (text.length === 0 || text.length > SHORT_BLOCK_CHARS) return false;
  if (LINE_TAGS.has(name) && (isTeaserLine(text) || isDateLine(text) || isAgeLine(text) || isBylineLine(text) || isCopyrightLine(text) || isLegalLine(text) || isMemberStatsLine(text))) return true;
  // By tag name: a selector is compiled on every call, and this runs for every short block.
  const links = el.getElementsByTagName('a');
  if (links.length === 0) return false;
  if (isTeaserCard(name, links)) return true;
  const linked = linkedLength(links);
  return isLinkDense(el, name, text.length, linked) || (opts.linkLists && isLinkList(name, text.length, linked));
}
