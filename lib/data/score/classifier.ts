// A fastText-style text classifier: hashed word and character n-gram features, a linear layer and
// a softmax. The features of a document are averaged (as fastText averages its input vectors), so
// a long document and a short one land on the same scale. Trained with SGD and a linearly decaying
// learning rate, like fastText's supervised mode; a per-class bias carries the label prior.
//
// File: gzip of one JSON header line, then the weights as little-endian float32, (buckets + 1) × K
// (the last row is the bias).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DataError } from '../../errors.js';
import { createRandom } from '../../util/random.js';
import { extractFeatures, FeatureBuffer, type FeatureConfig } from './features.js';

export const CLASSIFIER_FORMAT = 'loom-classifier';

export interface ClassifierHeader {
  format: typeof CLASSIFIER_FORMAT;
  version: 1;
  labels: string[];
  /** The label whose probability `loom score` writes as scores.<name>. */
  positive: string;
  /** `loom score` sets flags.<name> when that probability is at least this (the offensive model: 0.5). */
  flagAbove?: number;
  features: FeatureConfig;
  /** How it was trained: data, options, figures (informational). */
  training?: Record<string, unknown>;
}

export const FEATURE_DEFAULTS: FeatureConfig = { buckets: 1 << 18, wordNgrams: 2, minn: 0, maxn: 0 };

export class Classifier {
  private readonly features = new FeatureBuffer();
  private readonly logits: Float64Array;
  readonly positiveIndex: number;

  constructor(
    readonly header: ClassifierHeader,
    /** (buckets + 1) × labels, row-major; the last row is the bias. */
    readonly weights: Float32Array,
  ) {
    const k = header.labels.length;
    if (weights.length !== (header.features.buckets + 1) * k) throw new DataError(`classifier: ${weights.length} weights for ${header.features.buckets} buckets × ${k} labels`);
    this.logits = new Float64Array(k);
    this.positiveIndex = header.labels.indexOf(header.positive);
    if (this.positiveIndex < 0) throw new DataError(`classifier: positive label ${header.positive} is not one of ${header.labels.join(', ')}`);
  }

  /** Probability of every label, in header.labels order (a view reused by the next call). */
  predict(text: string): Float64Array {
    const k = this.header.labels.length;
    const n = extractFeatures(text, this.header.features, this.features);
    const f = this.features.data;
    const w = this.weights;
    const z = this.logits;
    const bias = this.header.features.buckets * k;
    if (k === 2) {
      // The common binary case, unrolled: one pass, two sums.
      let z0 = 0;
      let z1 = 0;
      for (let i = 0; i < n; i++) {
        const row = f[i]! * 2;
        z0 += w[row]!;
        z1 += w[row + 1]!;
      }
      const scale = n > 0 ? 1 / Math.sqrt(n) : 0;
      z[0] = z0 * scale + w[bias]!;
      z[1] = z1 * scale + w[bias + 1]!;
    } else {
      z.fill(0);
      for (let i = 0; i < n; i++) {
        const row = f[i]! * k;
        for (let c = 0; c < k; c++) z[c]! += w[row + c]!;
      }
      const scale = n > 0 ? 1 / Math.sqrt(n) : 0;
      for (let c = 0; c < k; c++) z[c] = z[c]! * scale + w[bias + c]!;
    }
    softmaxInPlace(z);
    return z;
  }

  /** Probability of the positive label. */
  score(text: string): number {
    return this.predict(text)[this.positiveIndex]!;
  }

  save(path: string): void {
    const header = Buffer.from(JSON.stringify(this.header) + '\n');
    const body = Buffer.from(this.weights.buffer, this.weights.byteOffset, this.weights.byteLength);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, gzipSync(Buffer.concat([header, body]), { level: 9 }));
    renameSync(tmp, path);
  }

  static load(path: string): Classifier {
    let bytes: Buffer;
    try {
      bytes = gunzipSync(readFileSync(path));
    } catch (error) {
      throw new DataError(`${path}: not a loom classifier (${(error as Error).message})`);
    }
    const newline = bytes.indexOf(0x0a);
    let header: ClassifierHeader;
    try {
      header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as ClassifierHeader;
    } catch {
      throw new DataError(`${path}: not a loom classifier (no header)`);
    }
    if (header.format !== CLASSIFIER_FORMAT) throw new DataError(`${path}: not a loom classifier (format ${String(header.format)})`);
    const body = bytes.subarray(newline + 1);
    const weights = new Float32Array(body.byteLength / 4);
    new Uint8Array(weights.buffer).set(body);
    return new Classifier(header, weights);
  }
}

function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let c = 0; c < z.length; c++) sum += z[c] = Math.exp(z[c]! - max);
  for (let c = 0; c < z.length; c++) z[c]! /= sum;
}

export interface TrainExample {
  text: string;
  label: string;
}

export interface ClassifierTrainOptions {
  features: FeatureConfig;
  epochs: number;
  /** Starting learning rate; it decays linearly to 0 over the run (fastText's -lr). */
  lr: number;
  seed: number;
  positive: string;
  flagAbove?: number;
  training?: Record<string, unknown>;
}

export const TRAIN_DEFAULTS = { epochs: 10, lr: 1, seed: 0 };

/** Trains a classifier on labelled texts; the labels are the distinct values, sorted. */
export function trainClassifier(examples: readonly TrainExample[], opts: ClassifierTrainOptions): Classifier {
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) throw new DataError(`score train: need at least two labels, found ${labels.length === 0 ? 'none' : labels[0]}`);
  if (!labels.includes(opts.positive)) throw new DataError(`score train: the positive label ${opts.positive} does not occur (labels: ${labels.join(', ')})`);
  const k = labels.length;
  const { buckets } = opts.features;
  const weights = new Float32Array((buckets + 1) * k);
  const header: ClassifierHeader = { format: CLASSIFIER_FORMAT, version: 1, labels, positive: opts.positive, features: opts.features, ...(opts.flagAbove !== undefined && { flagAbove: opts.flagAbove }), ...(opts.training && { training: opts.training }) };
  const model = new Classifier(header, weights);
  // Features once per example: training reads them every epoch.
  const buffer = new FeatureBuffer();
  const encoded = examples.map((e) => {
    const n = extractFeatures(e.text, opts.features, buffer);
    return { features: buffer.data.slice(0, n), label: labels.indexOf(e.label) };
  });
  const random = createRandom(opts.seed);
  const order = Array.from(encoded.keys());
  const total = opts.epochs * encoded.length;
  const grad = new Float64Array(k);
  const z = new Float64Array(k);
  const bias = buckets * k;
  let step = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const index of order) {
      const { features, label } = encoded[index]!;
      const lr = opts.lr * (1 - step++ / total);
      const n = features.length;
      const scale = n > 0 ? 1 / Math.sqrt(n) : 0;
      z.fill(0);
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) z[c]! += weights[features[i]! * k + c]!;
      for (let c = 0; c < k; c++) z[c] = z[c]! * scale + weights[bias + c]!;
      softmaxInPlace(z);
      for (let c = 0; c < k; c++) grad[c] = lr * (z[c]! - (c === label ? 1 : 0));
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) weights[features[i]! * k + c]! -= grad[c]! * scale;
      for (let c = 0; c < k; c++) weights[bias + c]! -= grad[c]!;
    }
  }
  return model;
}

export interface BinaryMetrics {
  n: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Precision, recall and F1 of the positive label (predicted when its probability is the highest). */
export function binaryMetrics(predicted: readonly boolean[], actual: readonly boolean[]): BinaryMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) {
    if (predicted[i] && actual[i]) tp++;
    else if (predicted[i]) fp++;
    else if (actual[i]) fn++;
    if (predicted[i] === actual[i]) correct++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { n: predicted.length, accuracy: correct / Math.max(predicted.length, 1), precision, recall, f1 };
}

/** The model's metrics on labelled texts: the positive label against the rest. */
export function evaluateClassifier(model: Classifier, examples: readonly TrainExample[]): BinaryMetrics {
  const predicted = examples.map((e) => {
    const p = model.predict(e.text);
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    return best === model.positiveIndex;
  });
  return binaryMetrics(predicted, examples.map((e) => e.label === model.header.positive));
}
