'use strict';
// The npm etcd3 client's leases and lock (pinned in package.json) against a running cluster:
//   node lease.js 127.0.0.1:2379 127.0.0.1:22379 127.0.0.1:32379
// A short lease kept alive by the client outlives its TTL; revoke deletes its keys; an un-kept lease expires and
// takes its key with it; keepaliveOnce through another member; etcd3's try-once lock excludes a second holder until
// released. Exits non-zero, naming the first mismatch.
const assert = require('node:assert/strict');
const { Etcd3, EtcdLockFailedError } = require('etcd3');

const endpoints = process.argv.slice(2);
if (endpoints.length < 2) {
  console.error('usage: node lease.js host:port host:port [host:port...]');
  process.exit(64);
}
let step = 'start';
const deadline = setTimeout(() => {
  console.error(`FAIL: not finished within 90 s (at "${step}")`);
  process.exit(3);
}, 90_000);
deadline.unref();

const options = { dialTimeout: 5_000, defaultCallOptions: () => ({ deadline: Date.now() + 10_000 }) };
const first = new Etcd3({ ...options, hosts: endpoints[0] });
const second = new Etcd3({ ...options, hosts: endpoints[1] });
const all = new Etcd3({ ...options, hosts: endpoints });
const prefix = `npml-${process.pid}-${Date.now()}/`;
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

async function until(condition, what, limitMs) {
  for (let waited = 0; !(await condition()); waited += 100) {
    if (waited > limitMs) {
      throw new Error(`${what}: not true after ${limitMs} ms`);
    }
    await sleep(100);
  }
}

async function main() {
  step = 'kept-alive lease outlives its TTL';
  const kept = all.lease(5);
  let lost = null;
  kept.on('lost', error => { lost = error; });
  const keptId = await kept.grant();
  assert.match(keptId, /^[1-9][0-9]*$/);
  await kept.put(`${prefix}kept`).value('v');
  await sleep(12_000);
  assert.equal(lost, null, `lease lost while kept alive: ${lost}`);
  assert.equal(await second.get(`${prefix}kept`).string(), 'v');

  step = 'keepaliveOnce through another member';
  const once = second.lease(5, { autoKeepAlive: false });
  const onceId = await once.grant();
  const answer = await once.keepaliveOnce();
  assert.equal(String(answer.TTL), '5');
  assert.equal(String(answer.ID), onceId);

  step = 'revoke deletes the keys';
  await kept.revoke();
  assert.equal(await first.get(`${prefix}kept`).string(), null);

  step = 'an un-kept lease expires with its key';
  const unkept = first.lease(2, { autoKeepAlive: false });
  await unkept.grant();
  await unkept.put(`${prefix}unkept`).value('v');
  await until(async () => (await second.get(`${prefix}unkept`).string()) === null, 'un-kept lease expiry', 20_000);

  step = 'lock excludes a second holder until released';
  const held = await first.lock(`${prefix}lock`).ttl(5).acquire();
  await assert.rejects(second.lock(`${prefix}lock`).ttl(5).acquire(), EtcdLockFailedError);
  await held.release();
  const next = await second.lock(`${prefix}lock`).ttl(5).acquire();
  await next.release();

  console.log(`OK etcd3 ${require('etcd3/package.json').version} leases and lock against ${endpoints.join(',')}`);
}

main()
  .catch(error => {
    console.error(`FAIL at "${step}": ${error && error.stack ? error.stack : error}`);
    process.exitCode = 1;
  })
  .finally(() => {
    first.close();
    second.close();
    all.close();
  });
