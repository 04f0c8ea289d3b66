'use strict';
// The npm etcd3 client's watcher (pinned in package.json) against a running cluster:
//   node watch.js 127.0.0.1:2379 127.0.0.1:22379 127.0.0.1:32379
// Live prefix watch on one member while another member takes the writes, then a historical watch (startRevision)
// with previous values and a NOPUT filter; several watchers on the client's one stream (server-assigned ids).
// Exits non-zero, naming the first mismatch.
const assert = require('node:assert/strict');
const { Etcd3 } = require('etcd3');

const endpoints = process.argv.slice(2);
if (endpoints.length < 2) {
  console.error('usage: node watch.js host:port host:port [host:port...]');
  process.exit(64);
}
const deadline = setTimeout(() => {
  console.error(`FAIL: not finished within 60 s (at "${step}")`);
  process.exit(3);
}, 60_000);
deadline.unref();

const options = { dialTimeout: 5_000, defaultCallOptions: () => ({ deadline: Date.now() + 10_000 }) };
const watching = new Etcd3({ ...options, hosts: endpoints[0] });
const writing = new Etcd3({ ...options, hosts: endpoints[1] });
const prefix = `npmw-${process.pid}-${Date.now()}/`;
let step = 'start';

function record(watcher, into) {
  watcher.on('put', (kv, previous) => into.push(['put', kv.key.toString(), kv.value.toString(), kv.mod_revision, previous && previous.value.toString()]));
  watcher.on('delete', (kv, previous) => into.push(['delete', kv.key.toString(), '', kv.mod_revision, previous && previous.value.toString()]));
}

async function until(events, count, what) {
  for (let waited = 0; events.length < count; waited += 25) {
    if (waited > 20_000) {
      throw new Error(`${what}: ${events.length} of ${count} events after 20 s: ${JSON.stringify(events)}`);
    }
    await new Promise(resolve => setTimeout(resolve, 25));
  }
}

async function main() {
  step = 'live prefix watch on one member, writes through another';
  const live = [];
  const liveWatcher = await watching.watch().prefix(prefix).create();
  record(liveWatcher, live);
  const other = await watching.watch().key(prefix + 'b').create(); // a second watcher on the same stream
  const onlyB = [];
  record(other, onlyB);
  assert.notEqual(liveWatcher.id, other.id, 'distinct server-assigned ids');

  const a = await writing.put(prefix + 'a').value('1').exec();
  const b = await writing.put(prefix + 'b').value('2').exec();
  const a2 = await writing.put(prefix + 'a').value('3').exec();
  const del = await writing.delete().key(prefix + 'b').exec();
  await until(live, 4, 'live watcher');
  assert.deepEqual(live.map(e => e.slice(0, 4)), [
    ['put', prefix + 'a', '1', a.header.revision],
    ['put', prefix + 'b', '2', b.header.revision],
    ['put', prefix + 'a', '3', a2.header.revision],
    ['delete', prefix + 'b', '', del.header.revision],
  ]);
  await until(onlyB, 2, 'single-key watcher');
  assert.deepEqual(onlyB.map(e => e[0] + ' ' + e[3]), [`put ${b.header.revision}`, `delete ${del.header.revision}`]);

  step = 'historical watch with previous values, deletes only';
  // etcd3 1.1.2 maps ignore('delete') to the NOPUT filter (its operationNames table is inverted), so this watcher
  // asks etcd for deletes only; against etcd the result is the same.
  const history = [];
  const historyWatcher = await watching.watch().prefix(prefix).startRevision(a.header.revision).withPreviousKV().ignore('delete').create();
  record(historyWatcher, history);
  await until(history, 1, 'historical watcher');
  assert.deepEqual(history, [['delete', prefix + 'b', '', del.header.revision, '2']]);

  step = 'cancel';
  await Promise.all([liveWatcher.cancel(), other.cancel(), historyWatcher.cancel()]);
  await writing.put(prefix + 'a').value('after cancel');
  await new Promise(resolve => setTimeout(resolve, 300));
  assert.equal(live.length, 4, 'no event after cancel');

  await writing.delete().prefix(prefix);
  console.log(`OK etcd3 ${require('etcd3/package.json').version} watch against ${endpoints.join(',')}`);
}

main().then(
  () => { close(); process.exit(0); },
  error => { console.error(`FAIL at "${step}": ${error && error.stack || error}`); close(); process.exit(1); });

function close() {
  watching.close();
  writing.close();
}
