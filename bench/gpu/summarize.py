"""Summarise Dialect `train --json` event logs: per-epoch seconds, training samples/s,
loss and validation accuracy; a failure's message."""
import json, sys
for path in sys.argv[1:]:
    ev = [json.loads(l) for l in open(path) if l.startswith('{')]
    for e in ev:
        if e['type'] == 'started':
            print(path, 'device', e['device'], e.get('precision', '?'), 'train', e['trainRows'],
                  'val', e['validationRows'], 'steps', e['totalSteps'])
        if e['type'] == 'failed': print(path, 'FAILED', e['message'])
        if e['type'] in ('finished', 'cancelled'):
            s = e['summary']
            for r in s['epochs']:
                print(f"  epoch {r['epoch']}: {r['seconds']:.1f}s {r['samplesPerSecond']:.1f} samples/s "
                      f"train loss {r['trainLoss']:.4f} val acc {r['metrics']['accuracy']:.4f}")
            print('  total', round(s['seconds'], 1), 's')
