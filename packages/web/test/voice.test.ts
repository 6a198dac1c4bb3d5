import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatDuration, sumStats, voiceStateOf } from '../src/voice.js';

it('says connected as soon as one participant is heard, and why not otherwise', () => {
  assert.equal(voiceStateOf('idle', [], 0), 'idle');
  assert.equal(voiceStateOf('idle', [], 1), 'incoming');
  assert.equal(voiceStateOf('ended', [], 2), 'incoming');
  assert.equal(voiceStateOf('ended', [], 0), 'ended');
  assert.equal(voiceStateOf('starting', [], 1), 'starting');
  assert.equal(voiceStateOf('live', [], 0), 'alone');
  assert.equal(voiceStateOf('live', ['offering', 'offering'], 0), 'waiting');
  assert.equal(voiceStateOf('live', ['offering', 'answering'], 0), 'connecting');
  assert.equal(voiceStateOf('live', ['reconnecting', 'connecting'], 0), 'reconnecting');
  assert.equal(voiceStateOf('live', ['reconnecting', 'connected', 'offering'], 0), 'connected');
  assert.equal(voiceStateOf('live', ['failed'], 0), 'failed');
});

it('adds up the figures of every peer connection; the level is the loudest', () => {
  const s = sumStats([
    { packetsReceived: 10, audioEnergy: 0.5, audioLevel: 0.2, packetsSent: 12 },
    { packetsReceived: 5, audioEnergy: 0.25, audioLevel: 0.7, packetsSent: 3 },
  ]);
  assert.deepEqual(s, { packetsReceived: 15, audioEnergy: 0.75, audioLevel: 0.7, packetsSent: 15 });
});

it('shows the call timer as m:ss, and h:mm:ss past an hour', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(-5), '0:00');
  assert.equal(formatDuration(61_999), '1:01');
  assert.equal(formatDuration(3_600_000 + 5_000), '1:00:05');
});
