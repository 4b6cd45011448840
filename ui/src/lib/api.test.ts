import { describe, expect, it } from 'vitest';
import { Channel } from '@tauri-apps/api/core';
import * as api from './api';
import { catalogue, devices, mockCommands } from '../test/fixtures';

describe('api wrappers', () => {
  it('send the argument keys of the contract', async () => {
    const { calls } = mockCommands({
      inspect_data: () => ({}),
      row_texts: () => [],
      predict: () => [],
      explain: () => ({}),
      predictor_info: () => ({}),
      set_run_threshold: () => null,
      review_run: () => ({}),
      get_run: () => ({}),
      check_model: () => ({ id: 'x', cached: null }),
      save_label_map: () => null,
      check_device: () => [],
      estimate_training: () => null,
      cancel_estimate: () => null,
    });
    const map: api.LabelMap = { mapping: { a: 'b', c: null }, unmapped: 'drop' };
    const checks: api.Checks = { model: 'org/m', maxLength: 128, split: { validationFraction: 0.1, seed: 42, maxRows: null } };
    await api.inspectData('/f.csv', ['subject', 'body'], 'category', map, checks);
    await api.rowTexts('/f.csv', ['body'], [2, 5]);
    await api.rowTexts('/f.csv', ['body'], [2], 'category', map);
    const sets: api.LabelForm = { kind: 'separated', separator: null };
    await api.inspectData('/f.csv', ['body'], 'tags', null, null, sets);
    await api.rowTexts('/f.csv', ['body'], [2], 'tags', null, sets);
    await api.predict('run-1', ['hello']);
    await api.predict('run-1', ['hello'], 'f32');
    await api.explain('run-1', 'hello');
    await api.explain('run-1', 'hello', 'int8');
    await api.predictorInfo('run-1', 'int8');
    const point = { threshold: 0.9, handled: 2, coverage: 0.4, accuracy: 1 };
    await api.setRunThreshold('run-1', { threshold: 0.9, chosenOn: point });
    await api.setRunThreshold('run-1', null);
    await api.reviewRun('run-1');
    await api.getRun('run-1');
    await api.checkModel('org/m');
    await api.saveLabelMap(map);
    await api.checkDevice('cuda');
    const estimate: api.EstimateRequest = {
      config: { ...catalogue().config, epochs: 1 },
      data: {
        path: '/f.csv',
        text: { columns: ['body'], separator: '\n\n' },
        labelColumn: 'category',
        labelMap: null,
        validation: null,
        split: { validationFraction: 0.1, seed: 42, maxRows: null },
        corrections: null,
      },
      fitMinutes: 10,
      remeasure: false,
    };
    await api.estimateTraining(estimate);
    await api.cancelEstimate();
    expect(calls).toEqual([
      {
        cmd: 'inspect_data',
        args: { path: '/f.csv', text: ['subject', 'body'], labelColumn: 'category', labelMap: map, checks, labelForm: null },
      },
      { cmd: 'row_texts', args: { path: '/f.csv', text: ['body'], lines: [2, 5], labelColumn: null, labelMap: null, labelForm: null } },
      { cmd: 'row_texts', args: { path: '/f.csv', text: ['body'], lines: [2], labelColumn: 'category', labelMap: map, labelForm: null } },
      { cmd: 'inspect_data', args: { path: '/f.csv', text: ['body'], labelColumn: 'tags', labelMap: null, checks: null, labelForm: sets } },
      { cmd: 'row_texts', args: { path: '/f.csv', text: ['body'], lines: [2], labelColumn: 'tags', labelMap: null, labelForm: sets } },
      { cmd: 'predict', args: { runId: 'run-1', texts: ['hello'], precision: null } },
      { cmd: 'predict', args: { runId: 'run-1', texts: ['hello'], precision: 'f32' } },
      { cmd: 'explain', args: { runId: 'run-1', text: 'hello', precision: null } },
      { cmd: 'explain', args: { runId: 'run-1', text: 'hello', precision: 'int8' } },
      { cmd: 'predictor_info', args: { runId: 'run-1', precision: 'int8' } },
      { cmd: 'set_run_threshold', args: { runId: 'run-1', routing: { threshold: 0.9, chosenOn: point } } },
      { cmd: 'set_run_threshold', args: { runId: 'run-1', routing: null } },
      { cmd: 'review_run', args: { runId: 'run-1' } },
      { cmd: 'get_run', args: { runId: 'run-1' } },
      { cmd: 'check_model', args: { model: 'org/m' } },
      { cmd: 'save_label_map', args: { map } },
      { cmd: 'check_device', args: { choice: 'cuda' } },
      { cmd: 'estimate_training', args: { request: estimate } },
      { cmd: 'cancel_estimate', args: {} },
    ]);
  });

  it('pass Channels for streaming commands', async () => {
    const { calls } = mockCommands({
      start_training: () => 'run-1',
      download_model: () => '/cache/m',
      predict_file: () => null,
      attach_training: () => null,
    });
    const request: api.RunRequest = {
      data: {
        path: '/f.csv',
        text: { columns: ['body'], separator: '\n\n' },
        labelColumn: 'category',
        labelMap: null,
        validation: null,
        split: { validationFraction: 0.1, seed: 42, maxRows: 2000 },
        corrections: null,
      },
      config: { ...catalogue().config, epochs: 1 },
      force: false,
      parent: null,
    };
    await expect(api.startTraining(request, () => {})).resolves.toBe('run-1');
    await api.downloadModel('bert-base-uncased', () => {});
    await api.predictFile('run-1', () => {});
    await api.attachTraining(() => {});
    expect(calls[0].args.request).toEqual(request);
    expect(calls[0].args.onEvent).toBeInstanceOf(Channel);
    expect(calls[1].args).toMatchObject({ model: 'bert-base-uncased' });
    expect(calls[1].args.onProgress).toBeInstanceOf(Channel);
    expect(Object.keys(calls[2].args).sort()).toEqual(['onProgress', 'precision', 'runId']);
    expect(calls[2].args.runId).toBe('run-1');
    expect(calls[2].args.onProgress).toBeInstanceOf(Channel);
    expect(calls[3].args.onEvent).toBeInstanceOf(Channel);
  });

  it('reject with the AppError, which reads as a sentence', async () => {
    mockCommands({ list_runs: () => Promise.reject({ kind: 'io', message: 'cannot read /runs: permission denied' }) });
    const err = await api.listRuns().catch((e) => e);
    expect(api.isAppError(err)).toBe(true);
    expect(api.errorMessage(err)).toBe('cannot read /runs: permission denied');
    expect(api.errorTitle(err)).toBe('File problem');
    expect(api.errorSettings(err)).toEqual([]);
  });

  it('title every error kind, and name the settings that can fix one', () => {
    const blocked = { kind: 'blocked', message: '/f.csv: 2 blocking problems', settings: ['force'] };
    expect(api.errorTitle(blocked)).toBe('Blocking data problems');
    expect(api.errorSettings(blocked)).toEqual(['force']);
    expect(api.errorTitle({ kind: 'forbidden', message: 'not opened in Dialect', settings: [] })).toBe('Not allowed');
  });

  it('turn any rejection into a readable message', () => {
    expect(api.errorMessage(new Error('boom'))).toBe('boom');
    expect(api.errorMessage('plain text')).toBe('plain text');
    expect(api.errorMessage({ message: 'just a message' })).toBe('just a message');
    expect(api.errorMessage({ code: 7 })).toBe('{"code":7}');
    expect(api.errorMessage(undefined)).toBe('Unknown error');
    expect(api.errorMessage(null)).toBe('Unknown error');
  });

  it('helpers', () => {
    expect(api.fileName('/a/b/tickets.csv')).toBe('tickets.csv');
    expect(api.fileName('C:\\data\\x.tsv')).toBe('x.tsv');
    expect(api.modelTestId('sentence-transformers/all-MiniLM-L6-v2')).toBe('sentence-transformers__all-MiniLM-L6-v2');
    const [cpu, cuda, metal] = devices(true);
    expect(api.deviceDescription(cpu)).toBe('AMD EPYC 7B13 (2 threads)');
    expect(api.deviceDescription(cuda)).toBe('NVIDIA H100 80GB HBM3 · 79.1 GiB (78.5 GiB free)');
    expect(api.deviceDescription(metal)).toBe('');
  });
});
