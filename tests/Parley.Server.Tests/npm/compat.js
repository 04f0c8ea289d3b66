'use strict';
// The npm etcd3 client (pinned in package.json) against a running cluster:
//   node compat.js 127.0.0.1:2379 127.0.0.1:22379 127.0.0.1:32379
// Exercises what Parley serves today (KV Range/Put/DeleteRange/Txn, Cluster.MemberList, Maintenance.Status)
// and exits non-zero, naming the first mismatch, if anything differs from etcd's behaviour.
const assert = require('node:assert/strict');
const { Etcd3 } = require('etcd3');

const endpoints = process.argv.slice(2);
if (endpoints.length === 0) {
  console.error('usage: node compat.js host:port [host:port...]');
  process.exit(64);
}
const deadline = setTimeout(() => {
  console.error('FAIL: not finished within 60 s');
  process.exit(3);
}, 60_000);
deadline.unref();

const options = { dialTimeout: 5_000, defaultCallOptions: () => ({ deadline: Date.now() + 10_000 }) };
const all = new Etcd3({ ...options, hosts: endpoints });
const single = endpoints.map(host => new Etcd3({ ...options, hosts: host }));
const prefix = `npm-${process.pid}-${Date.now()}/`;
const kv = all.namespace(prefix);
let step = 'start';

async function main() {
  step = 'put then get';
  const put = await kv.put('a').value('1').exec();
  const firstRevision = Number(put.header.revision);
  assert.ok(firstRevision > 0, 'put header.revision');
  assert.notEqual(put.header.cluster_id, '0', 'put header.cluster_id');
  assert.notEqual(put.header.member_id, '0', 'put header.member_id');
  assert.equal(await kv.get('a').string(), '1');
  const got = await kv.get('a').exec();
  assert.equal(got.kvs.length, 1);
  assert.equal(got.kvs[0].key.toString(), prefix + 'a');
  assert.equal(Number(got.kvs[0].create_revision), firstRevision);
  assert.equal(Number(got.kvs[0].mod_revision), firstRevision);
  assert.equal(got.kvs[0].version, '1');
  assert.equal(got.count, '1');
  assert.equal(await kv.get('missing').string(), null);
  assert.equal(await kv.get('a').exists(), true);

  step = 'overwrite with previous value';
  const previous = await kv.put('a').value('2').getPrevious();
  assert.equal(previous.value.toString(), '1');
  assert.ok(Number(previous.header.revision) > firstRevision);
  assert.equal((await kv.get('a').revision(firstRevision).string()), '1', 'read at an older revision');

  step = 'every member reads the others\' writes (writes forwarded to the leader, linearizable reads)';
  for (let i = 0; i < single.length; i++) {
    const writer = single[i].namespace(prefix);
    await writer.put(`m${i}`).value(`from-${i}`);
    for (let j = 0; j < single.length; j++) {
      assert.equal(await single[j].namespace(prefix).get(`m${i}`).string(), `from-${i}`, `member ${j} reads m${i}`);
    }
  }
  assert.equal(await single[single.length - 1].namespace(prefix).get('a').serializable(true).string(), '2', 'serializable read');

  step = 'prefix get, count, keys, sort and limit';
  await Promise.all(['p/b', 'p/a', 'p/c', 'pX'].map(key => kv.put(key).value(`v-${key}`)));
  assert.deepEqual(await kv.getAll().prefix('p/').strings(), { 'p/a': 'v-p/a', 'p/b': 'v-p/b', 'p/c': 'v-p/c' });
  assert.deepEqual(await kv.getAll().prefix('p/').keys(), ['p/a', 'p/b', 'p/c']);
  assert.equal(await kv.getAll().prefix('p/').count(), 3);
  assert.deepEqual(await kv.getAll().prefix('p/').sort('Key', 'Descend').limit(1).keys(), ['p/c']);
  const limited = await kv.getAll().prefix('p/').limit(2).exec();
  assert.equal(limited.more, true);
  assert.equal(limited.count, '3');

  step = 'delete one key, then a prefix';
  const deletedOne = await kv.delete().key('p/a').exec();
  assert.equal(deletedOne.deleted, '1');
  assert.equal(await kv.get('p/a').string(), null);
  const previousKvs = await kv.delete().prefix('p/').getPrevious();
  assert.deepEqual(previousKvs.map(entry => entry.value.toString()).sort(), ['v-p/b', 'v-p/c']);
  assert.deepEqual(await kv.getAll().prefix('p/').keys(), []);
  assert.equal(await kv.get('pX').string(), 'v-pX', 'a key outside the prefix survives');
  assert.equal((await kv.delete().key('p/a').exec()).deleted, '0');

  step = 'txn compare-and-swap';
  await kv.put('cas').value('1');
  const swapped = await kv.if('cas', 'Value', '==', '1').then(kv.put('cas').value('2')).else(kv.get('cas')).commit();
  assert.equal(swapped.succeeded, true);
  assert.ok(swapped.responses[0].response_put, 'success branch ran a put');
  const stale = await kv.if('cas', 'Value', '==', '1').then(kv.put('cas').value('3')).else(kv.get('cas')).commit();
  assert.equal(stale.succeeded, false);
  assert.equal(stale.responses[0].response_range.kvs[0].value.toString(), '2');
  const modRevision = stale.responses[0].response_range.kvs[0].mod_revision;
  const guarded = await kv.if('cas', 'Mod', '==', modRevision).and('cas', 'Version', '>', 1)
    .then(kv.delete().key('cas')).commit();
  assert.equal(guarded.succeeded, true);
  assert.equal(guarded.responses[0].response_delete_range.deleted, '1');
  const absent = await kv.if('cas', 'Create', '==', 0).then(kv.put('cas').value('fresh')).commit();
  assert.equal(absent.succeeded, true, 'create_revision == 0 for a deleted key');
  assert.equal(await kv.get('cas').string(), 'fresh');

  step = 'software transactional memory (txn guarded by mod revisions)';
  await kv.put('counter').value(10);
  await Promise.all([1, 2, 3].map(() => kv.stm({ retries: 20 }).transact(async tx => {
    const value = Number(await tx.get('counter').string());
    await tx.put('counter').value(value + 1);
  })));
  assert.equal(await kv.get('counter').number(), 13);

  step = 'errors carry etcd\'s messages';
  await assert.rejects(all.put('').value('x').exec(), /etcdserver: key is not provided/);

  step = 'cluster member list and maintenance status';
  const members = await all.cluster.memberList({});
  assert.equal(members.members.length, endpoints.length);
  assert.ok(members.members.every(member => member.name && member.peerURLs.length === 1 && member.clientURLs.length === 1));
  const statuses = await Promise.all(single.map(client => client.maintenance.status()));
  assert.equal(new Set(statuses.map(status => status.leader)).size, 1, 'every member names the same leader');
  assert.equal(new Set(statuses.map(status => status.header.member_id)).size, endpoints.length, 'each status is from its own member');
  assert.ok(statuses.every(status => status.version === '3.4.23'));
  assert.ok(members.members.some(member => member.ID === statuses[0].leader), 'the leader is a member');

  step = 'clean up';
  await all.delete().prefix(prefix);
  console.log(`OK etcd3 ${require('etcd3/package.json').version} against ${endpoints.join(',')}`);
}

main().then(
  () => { close(); process.exit(0); },
  error => { console.error(`FAIL at "${step}": ${error && error.stack || error}`); close(); process.exit(1); });

function close() {
  all.close();
  single.forEach(client => client.close());
}
