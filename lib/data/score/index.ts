export { score, type ScoreOptions } from './stage.js';
export { Classifier, trainClassifier, evaluateClassifier, binaryMetrics, FEATURE_DEFAULTS, TRAIN_DEFAULTS, type ClassifierHeader, type TrainExample, type ClassifierTrainOptions, type BinaryMetrics } from './classifier.js';
export { extractFeatures, FeatureBuffer, type FeatureConfig } from './features.js';
export { NgramLm, trainNgramLm, LM_DEFAULTS, normalizeForLm, type NgramLmHeader, type NgramLmTrainOptions } from './ngram-lm.js';
export { RULES, RULE_NAMES, c4, fineweb, gopherQuality, gopherRepetition, C4_DEFAULTS, FINEWEB_DEFAULTS, GOPHER_QUALITY_DEFAULTS, GOPHER_REPETITION_DEFAULTS, type QualityRule, type RuleOutcome } from './rules/index.js';
export { TextView, wordsOf, isChineseText } from './text-view.js';
export { DEFAULT_CLASSIFIERS, DEFAULT_LM, parseModelSpec } from './models.js';
export { rocAuc } from './roc.js';
