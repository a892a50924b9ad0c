// Whether Readability cut lines out of the block it chose, which the marked container holds whole
// (cuts.ts): the tests write both texts, line by line, and ask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutFromWithin } from '../../../../lib/data/extract/cuts.js';

const paragraphs = [
  'We plan, build and run the systems your teams rely on, from the first workshop to the last handover.',
  'Our consultants have delivered more than four hundred projects for public and private clients alike.',
  'Every engagement starts with a review of what you have, so that nothing is rebuilt without a reason.',
  'When the work is done, we train your staff and stay on call for as long as you need us to be there.',
];
const text = (lines: string[]) => lines.join('\n\n');

test('headings cut from between the paragraphs Readability kept: the container is the block whole', () => {
  const container = text(['Strategy and planning', paragraphs[0]!, 'Delivery you can count on', paragraphs[1]!, 'Assessment first', paragraphs[2]!, 'Training and support', paragraphs[3]!]);
  assert.ok(cutFromWithin(text(paragraphs), container));
});

test('pricing cards cut from the middle of a service page are put back', () => {
  const container = text([paragraphs[0]!, 'Professional Growth', 'An expertly written and keyword-optimized resume.', paragraphs[1]!, 'Career Evolution', 'Everything you need to apply to jobs, with a cover letter.', paragraphs[2]!, 'Executive Priority', 'Resume, cover letter and profile by an executive writer.', paragraphs[3]!]);
  assert.ok(cutFromWithin(text(paragraphs), container));
});

test('lines added before or after Readability\'s text are another block, not a cut', () => {
  const sidebar = ['Related services', 'Cloud migration for mid-sized companies', 'Data platforms that scale with you', 'Security reviews in two weeks'];
  assert.ok(!cutFromWithin(text(paragraphs), text([...paragraphs, ...sidebar])));
  assert.ok(!cutFromWithin(text(paragraphs), text([...sidebar, ...paragraphs])));
});

test('lines put back in one place are a block Readability\'s span straddles (a list of videos), not cuts', () => {
  const videos = ['Football: the coach speaks plainly about transfers', 'Skiing: an interview before the games', 'Football: talks with a veteran defender', 'Football: the new striker will bring joy'];
  assert.ok(!cutFromWithin(text(paragraphs), text([paragraphs[0]!, paragraphs[1]!, paragraphs[2]!, ...videos, paragraphs[3]!])));
});

test('figures, prices and member-card labels between the lines are not cuts worth putting back', () => {
  const container = text([paragraphs[0]!, 'Joined', '2019', 'Posts', '6,696', paragraphs[1]!, 'Likes', '9,236', paragraphs[2]!, 'AED: 395.56', 'GBP: 79.77', paragraphs[3]!]);
  assert.ok(!cutFromWithin(text(paragraphs), container));
});

test('a few short cuts are not enough, and a container that does not hold Readability\'s text is another block', () => {
  assert.ok(!cutFromWithin(text(paragraphs), text([paragraphs[0]!, 'Share', paragraphs[1]!, paragraphs[2]!, 'Print', paragraphs[3]!])));
  assert.ok(!cutFromWithin(text(paragraphs), text(['Another page entirely', 'with lines of its own'])));
  assert.ok(!cutFromWithin('', text(paragraphs)));
});
