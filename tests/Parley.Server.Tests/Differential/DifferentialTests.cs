using Etcdserverpb;
using Google.Protobuf;
using Empty = Google.Protobuf.WellKnownTypes.Empty;
using GrpcCore = Grpc.Core;
using static Parley.Server.Tests.Differential.Requests;
using R = Etcdserverpb.Compare.Types.CompareResult;
using SortOrder = Etcdserverpb.RangeRequest.Types.SortOrder;
using SortTarget = Etcdserverpb.RangeRequest.Types.SortTarget;

namespace Parley.Server.Tests.Differential;

/// <summary>
/// The MVCC rules, each as a sequence of requests sent to a real etcd 3.4 member and to Parley; every response
/// (revisions, versions, create/mod revisions, counts, more, prev_kv, txn branches, errors with code and message)
/// must be the same, ids and terms aside. See <see cref="DifferentialPair"/>.
/// </summary>
public sealed class DifferentialTests
{
    [EtcdFact]
    public async Task Puts_Overwrites_Versions_PrevKv_AndIgnoreFlags_MatchEtcd()
    {
        using var pair = new DifferentialPair();
        await pair.PutAsync(Put("a", "1"));
        await pair.PutAsync(Put("a", "2", prevKv: true));
        await pair.PutAsync(Put("a", "2", prevKv: true)); // the same value still makes a revision
        await pair.PutAsync(Put("b", "", prevKv: true)); // no previous: no prev_kv
        await pair.PutAsync(Put("a", "", ignoreValue: true, prevKv: true));
        await pair.PutAsync(Put("a", "x", ignoreValue: true)); // value is provided
        await pair.PutAsync(Put("missing", "", ignoreValue: true)); // key not found
        await pair.PutAsync(Put("a", "3", ignoreLease: true, prevKv: true));
        await pair.PutAsync(Put("a", "3", lease: 7, ignoreLease: true)); // lease is provided
        await pair.PutAsync(Put("missing", "3", ignoreLease: true)); // key not found
        await pair.PutAsync(Put("a", "4", lease: 12345)); // requested lease not found
        await pair.PutAsync(Put("", "v")); // key is not provided
        await pair.PutAsync(Put("\0", "nul"));
        await pair.PutAsync(Put("bin\u00ff\u0001", "v"));
        await pair.RangeAsync(Get("\0", FromKey));
        await pair.RangeAsync(Get("a", revision: 2));
        await pair.RangeAsync(Get("a", revision: 3));
        await pair.RangeAsync(Get("", FromKey)); // key is not provided, even with a range end
    }

    [EtcdFact]
    public async Task Deletes_Single_Range_Prefix_FromKey_AndTombstones_MatchEtcd()
    {
        using var pair = new DifferentialPair();
        foreach (var key in new[] { "d/a", "d/b", "d/b/1", "d/c", "e", "f" })
        {
            await pair.PutAsync(Put(key, "v-" + key));
        }
        await pair.DeleteAsync(Delete("d/a", prevKv: true));
        await pair.DeleteAsync(Delete("d/a", prevKv: true)); // nothing left: no revision
        await pair.DeleteAsync(Delete("nothing"));
        await pair.DeleteAsync(Delete("d/b", "d/c", prevKv: true)); // [d/b, d/c)
        await pair.DeleteAsync(Delete("z", "a")); // end before key: empty
        await pair.RangeAsync(Prefix("d/"));
        await pair.RangeAsync(Prefix("d/", revision: 7));
        await pair.PutAsync(Put("d/a", "again", prevKv: true)); // a new incarnation: version 1, new create revision
        await pair.RangeAsync(Get("d/a"));
        await pair.DeleteAsync(new DeleteRangeRequest { Key = Bytes("d/"), RangeEnd = Bytes(PrefixEnd("d/")), PrevKv = false });
        await pair.DeleteAsync(Delete("e", FromKey, prevKv: true));
        await pair.DeleteAsync(Delete("", FromKey)); // key is not provided
        await pair.RangeAsync(Get("\0", FromKey));
        for (var revision = 1; revision <= pair.Revision + 1; revision++)
        {
            await pair.RangeAsync(Get("\0", FromKey, revision: revision));
        }
        await pair.PutAsync(Put("e", "back"));
        await pair.DeleteAsync(Delete("\0", FromKey, prevKv: true)); // everything
        await pair.RangeAsync(Get("\0", FromKey));
    }

    [EtcdFact]
    public async Task Ranges_Limit_Sort_KeysOnly_CountOnly_RevisionFilters_AndHistory_MatchEtcd()
    {
        using var pair = new DifferentialPair();
        var keys = new[] { "r/c", "r/a", "r/e", "r/b", "r/d", "s" };
        for (var i = 0; i < keys.Length; i++)
        {
            await pair.PutAsync(Put(keys[i], $"{(char)('z' - i)}{i}"));
        }
        await pair.PutAsync(Put("r/a", "a2"));
        await pair.PutAsync(Put("r/c", "c2"));
        await pair.DeleteAsync(Delete("r/e"));
        await pair.PutAsync(Put("r/e", "e2"));
        var now = pair.Revision;
        foreach (var limit in new long[] { 0, 1, 2, 5, 6, -1 })
        {
            await pair.RangeAsync(Prefix("r/", limit: limit));
        }
        foreach (var target in Enum.GetValues<SortTarget>())
        {
            foreach (var order in Enum.GetValues<SortOrder>())
            {
                await pair.RangeAsync(new RangeRequest { Key = Bytes("r/"), RangeEnd = Bytes("r0"), SortTarget = target, SortOrder = order });
                await pair.RangeAsync(new RangeRequest { Key = Bytes("r/"), RangeEnd = Bytes("r0"), SortTarget = target, SortOrder = order, Limit = 2 });
            }
        }
        await pair.RangeAsync(new RangeRequest { Key = Bytes("r/"), RangeEnd = Bytes("r0"), KeysOnly = true, Limit = 3 });
        await pair.RangeAsync(new RangeRequest { Key = Bytes("r/"), RangeEnd = Bytes("r0"), CountOnly = true });
        await pair.RangeAsync(new RangeRequest { Key = Bytes("r/"), RangeEnd = Bytes("r0"), CountOnly = true, KeysOnly = true, Limit = 1 });
        await pair.RangeAsync(new RangeRequest { Key = Bytes("r/"), RangeEnd = Bytes("r0"), CountOnly = true, MinModRevision = 5 });
        for (long bound = 1; bound <= now + 1; bound += 2)
        {
            await pair.RangeAsync(new RangeRequest { Key = Bytes("\0"), RangeEnd = Bytes(FromKey), MinModRevision = bound });
            await pair.RangeAsync(new RangeRequest { Key = Bytes("\0"), RangeEnd = Bytes(FromKey), MaxModRevision = bound });
            await pair.RangeAsync(new RangeRequest { Key = Bytes("\0"), RangeEnd = Bytes(FromKey), MinCreateRevision = bound, Limit = 2 });
            await pair.RangeAsync(new RangeRequest { Key = Bytes("\0"), RangeEnd = Bytes(FromKey), MaxCreateRevision = bound, SortTarget = SortTarget.Mod, SortOrder = SortOrder.Descend });
            await pair.RangeAsync(new RangeRequest { Key = Bytes("\0"), RangeEnd = Bytes(FromKey), MinModRevision = bound, MaxModRevision = bound + 3, MinCreateRevision = 2, MaxCreateRevision = bound + 1 });
        }
        for (long revision = 0; revision <= now + 2; revision++)
        {
            await pair.RangeAsync(Prefix("r/", revision: revision));
            await pair.RangeAsync(new RangeRequest { Key = Bytes("r/"), RangeEnd = Bytes("r0"), Revision = revision, Limit = 2, SortOrder = SortOrder.Descend, SortTarget = SortTarget.Create });
        }
        await pair.RangeAsync(Get("r/c", "r/a")); // end before key
        await pair.RangeAsync(Get("r/a", "r/a")); // end equal to key
        await pair.RangeAsync(new RangeRequest { Key = Bytes("r/a"), Serializable = true });
    }

    [EtcdFact]
    public async Task TxnCompares_OnEveryTarget_WithEveryResult_MatchEtcd()
    {
        using var pair = new DifferentialPair();
        await pair.PutAsync(Put("t/a", "m"));
        await pair.PutAsync(Put("t/a", "m"));
        await pair.PutAsync(Put("t/b", "p"));
        var values = new[] { "", "a", "m", "mm", "z" };
        var numbers = new long[] { -1, 0, 1, 2, 3, 4, 100 };
        var results = Enum.GetValues<R>();
        var then = new[] { Op(Get("t/a")) };
        var otherwise = new[] { Op(Get("t/b")) };
        foreach (var key in new[] { "t/a", "t/missing" })
        {
            foreach (var result in results)
            {
                foreach (var value in values)
                {
                    await pair.TxnAsync(Txn([Value(key, result, value)], then, otherwise));
                }
                foreach (var number in numbers)
                {
                    await pair.TxnAsync(Txn([Version(key, result, number)], then, otherwise));
                    await pair.TxnAsync(Txn([Create(key, result, number)], then, otherwise));
                    await pair.TxnAsync(Txn([Mod(key, result, number)], then, otherwise));
                    await pair.TxnAsync(Txn([Lease(key, result, number)], then, otherwise));
                }
            }
        }
        // Compares over a range: every key in it must satisfy the compare.
        foreach (var result in results)
        {
            await pair.TxnAsync(Txn([Version("t/", result, 1, PrefixEnd("t/"))], then, otherwise));
            await pair.TxnAsync(Txn([Value("t/", result, "m", PrefixEnd("t/"))], then, otherwise));
            await pair.TxnAsync(Txn([Mod("t/a", result, 3, FromKey)], then, otherwise));
            await pair.TxnAsync(Txn([Create("u/", result, 0, PrefixEnd("u/"))], then, otherwise)); // empty range
        }
        // A target that does not match the union's case compares against zero / empty.
        var mismatched = new Compare { Key = Bytes("t/a"), Target = Compare.Types.CompareTarget.Version, Result = R.Equal, Value = Bytes("m") };
        await pair.TxnAsync(Txn([mismatched], then, otherwise));
        mismatched = new Compare { Key = Bytes("t/a"), Target = Compare.Types.CompareTarget.Value, Result = R.Greater, Version = 2 };
        await pair.TxnAsync(Txn([mismatched], then, otherwise));
        // Several compares are ANDed; empty compares succeed.
        await pair.TxnAsync(Txn([Version("t/a", R.Equal, 2), Value("t/b", R.Equal, "p")], then, otherwise));
        await pair.TxnAsync(Txn([Version("t/a", R.Equal, 2), Value("t/b", R.Equal, "q")], then, otherwise));
        await pair.TxnAsync(Txn([], then, otherwise));
        await pair.TxnAsync(Txn([], [], []));
        await pair.TxnAsync(Txn([Value("", R.Equal, "x")], then, otherwise)); // key is not provided
    }

    [EtcdFact]
    public async Task TxnBranches_Writes_NestedTxns_Duplicates_AndLimits_MatchEtcd()
    {
        using var pair = new DifferentialPair();
        await pair.PutAsync(Put("x/a", "1"));
        // Writes and reads in order within one revision; reads after a write see it.
        await pair.TxnAsync(Txn([Version("x/a", R.Equal, 1)],
            [Op(Get("x/a")), Op(Put("x/a", "2", prevKv: true)), Op(Get("x/a")), Op(Put("x/b", "b")), Op(Delete("x/a", prevKv: true)), Op(Prefix("x/"))],
            [Op(Put("x/fail", "f"))]));
        await pair.TxnAsync(Txn([Version("x/a", R.Equal, 1)], [Op(Put("x/ok", "o"))], [Op(Put("x/fail", "f")), Op(Get("x/fail"))]));
        // A txn that changes nothing keeps the revision: a delete of nothing, and reads only.
        await pair.TxnAsync(Txn([], [Op(Delete("x/none")), Op(Get("x/b"))]));
        await pair.TxnAsync(Txn([], [Op(Prefix("x/")), Op(Get("x/b", revision: 2))]));
        // Nested txns: their compares see the state before the outer txn; their headers are empty.
        await pair.TxnAsync(Txn([], [
            Op(Put("x/n1", "outer")),
            Op(Txn([Version("x/n1", R.Equal, 0)], [Op(Put("x/n2", "then")), Op(Get("x/n1"))], [Op(Put("x/n2", "else"))])),
            Op(Get("x/n2")),
        ]));
        await pair.TxnAsync(Txn([], [Op(Txn([], [Op(Txn([Version("x/n2", R.Greater, 0)], [Op(Delete("x/n1", prevKv: true))], []))]))]));
        // Duplicate keys: two puts, a put inside a delete, across nested txns; then and else of one nested txn may share.
        await pair.TxnAsync(Txn([], [Op(Put("x/d", "1")), Op(Put("x/d", "2"))]));
        await pair.TxnAsync(Txn([], [Op(Delete("x/", PrefixEnd("x/"))), Op(Put("x/d", "2"))]));
        await pair.TxnAsync(Txn([], [Op(Put("x/d", "2")), Op(Delete("x/d"))]));
        await pair.TxnAsync(Txn([], [Op(Delete("x/d")), Op(Delete("x/", PrefixEnd("x/")))])); // overlapping deletes are fine
        await pair.TxnAsync(Txn([], [Op(Put("x/d", "1")), Op(Txn([], [Op(Put("x/d", "2"))]))]));
        await pair.TxnAsync(Txn([], [Op(Txn([], [Op(Put("x/d", "then"))], [Op(Put("x/d", "else"))]))]));
        await pair.TxnAsync(Txn([], [Op(Delete("x/d")), Op(Txn([], [], [Op(Put("x/d", "else"))]))]));
        await pair.TxnAsync(Txn([], [Op(Put("x/d", "1"))], [Op(Put("x/d", "2"))])); // one per branch is fine
        // Empty keys anywhere and an op with nothing set.
        await pair.TxnAsync(Txn([], [Op(Put("", "v"))]));
        await pair.TxnAsync(Txn([], [Op(Get(""))]));
        await pair.TxnAsync(Txn([], [], [Op(Delete(""))]));
        await pair.TxnAsync(Txn([], [Op(Txn([Value("", R.Equal, "")], []))]));
        await pair.TxnAsync(Txn([], [new RequestOp()]));
        // Apply-time failures abort the whole txn: a missing lease, a future or compacted read, ignore_value on nothing.
        await pair.TxnAsync(Txn([], [Op(Put("x/l", "v")), Op(Put("x/m", "v", lease: 99))]));
        await pair.TxnAsync(Txn([], [Op(Put("x/l", "v")), Op(Get("x/l", revision: 1000))]));
        await pair.TxnAsync(Txn([], [Op(Put("x/l", "v")), Op(Put("x/nothing", "", ignoreValue: true))]));
        await pair.TxnAsync(Txn([], [Op(Put("x/l", "v", ignoreValue: true))]));
        await pair.TxnAsync(Txn([], [Op(Put("x/l", "v")), Op(Put("x/k", "v", lease: 5, ignoreLease: true))]));
        await pair.RangeAsync(Prefix("x/"));
        // Too many operations: 128 is the limit on compares and on each branch; nested txns share the budget.
        var puts = Enumerable.Range(0, 129).Select(i => Op(Put($"x/many/{i:D3}", "v"))).ToArray();
        await pair.TxnAsync(Txn([], puts));
        await pair.TxnAsync(Txn([], puts[..128]));
        await pair.TxnAsync(Txn([], [], puts));
        await pair.TxnAsync(Txn(Enumerable.Range(0, 129).Select(i => Version($"x/many/{i:D3}", R.Equal, 1)), []));
        await pair.TxnAsync(Txn(Enumerable.Range(0, 128).Select(i => Version($"x/many/{i:D3}", R.Equal, 1)), [Op(Get("x/many/000"))]));
        await pair.TxnAsync(Txn([], [..puts[..100].Select(op => Op(Get(op.RequestPut.Key.ToStringUtf8()))), Op(Txn([], puts[100..]))]));
        await pair.TxnAsync(Txn([], [..puts[..120].Select(op => Op(Get(op.RequestPut.Key.ToStringUtf8()))), Op(Txn([], puts[120..]))]));
        await pair.RangeAsync(new RangeRequest { Key = Bytes("x/many/"), RangeEnd = Bytes(PrefixEnd("x/many/")), CountOnly = true });
    }

    [EtcdFact]
    public async Task Compaction_CompactedAndFutureRevisions_CompactTwice_AndHistory_MatchEtcd()
    {
        using var pair = new DifferentialPair();
        for (var i = 0; i < 6; i++)
        {
            await pair.PutAsync(Put("c/a", $"v{i}"));
            await pair.PutAsync(Put($"c/k{i}", "v"));
        }
        await pair.DeleteAsync(Delete("c/k1"));
        await pair.DeleteAsync(Delete("c/k2"));
        var now = pair.Revision;
        await pair.CompactAsync(now + 1); // future
        await pair.CompactAsync(0); // compacted (0 is never newer than the start)
        await pair.CompactAsync(5);
        await pair.CompactAsync(5); // twice: compacted
        await pair.CompactAsync(4); // older: compacted
        for (long revision = 0; revision <= now + 1; revision++)
        {
            await pair.RangeAsync(Get("\0", FromKey, revision: revision));
            await pair.RangeAsync(Get("c/a", revision: revision));
        }
        await pair.TxnAsync(Txn([], [Op(Get("c/a", revision: 3))]));
        await pair.TxnAsync(Txn([], [Op(Put("c/a", "in txn")), Op(Get("c/a", revision: 3))]));
        await pair.CompactAsync(now, physical: true);
        for (long revision = now - 2; revision <= now + 1; revision++)
        {
            await pair.RangeAsync(Get("\0", FromKey, revision: revision));
        }
        await pair.PutAsync(Put("c/a", "after", prevKv: true));
        await pair.RangeAsync(new RangeRequest { Key = Bytes("c/"), RangeEnd = Bytes(PrefixEnd("c/")), MinModRevision = 1 });
        await pair.CompactAsync(pair.Revision); // the current revision itself
        await pair.RangeAsync(Get("\0", FromKey));
        await pair.RangeAsync(Get("c/a", revision: pair.Revision));
        await pair.RangeAsync(Get("c/a", revision: pair.Revision - 1));
        await pair.DeleteAsync(Delete("c/", PrefixEnd("c/"), prevKv: true));
        await pair.RangeAsync(Get("c/a", revision: pair.Revision - 1));
    }

    [EtcdFact]
    public async Task LeaseAttachedPuts_IgnoreLease_LeaseCompares_AndRevoke_MatchEtcd()
    {
        using var pair = new DifferentialPair();
        await pair.LeaseGrantAsync(100, 600);
        await pair.LeaseGrantAsync(100, 600); // lease already exists
        await pair.LeaseGrantAsync(101, 600);
        await pair.LeaseGrantAsync(102, 9_000_000_001); // too large lease TTL
        await pair.PutAsync(Put("l/a", "1", lease: 100));
        await pair.PutAsync(Put("l/b", "1", lease: 100));
        await pair.PutAsync(Put("l/c", "1", lease: 101));
        await pair.PutAsync(Put("l/d", "1", lease: 103)); // requested lease not found
        await pair.PutAsync(Put("l/a", "2", ignoreLease: true, prevKv: true)); // keeps lease 100
        await pair.PutAsync(Put("l/b", "2", lease: 101, prevKv: true)); // moves to 101
        await pair.PutAsync(Put("l/c", "2", prevKv: true)); // detached
        await pair.RangeAsync(Prefix("l/"));
        foreach (var result in Enum.GetValues<R>())
        {
            await pair.TxnAsync(Txn([Lease("l/a", result, 100)], [Op(Put("l/t", "then", lease: 101))], [Op(Get("l/a"))]));
            await pair.TxnAsync(Txn([Lease("l/", result, 101, PrefixEnd("l/"))], [Op(Get("l/", PrefixEnd("l/")))], [Op(Get("l/b"))]));
        }
        await pair.TxnAsync(Txn([], [Op(Put("l/e", "v", lease: 100)), Op(Put("l/f", "v", lease: 104))])); // whole txn refused
        await pair.LeaseRevokeAsync(101); // deletes its keys in one revision
        await pair.LeaseRevokeAsync(101); // requested lease not found
        await pair.RangeAsync(Prefix("l/"));
        await pair.PutAsync(Put("l/a", "3", lease: 101)); // revoked: not found
        await pair.LeaseRevokeAsync(100);
        await pair.RangeAsync(Prefix("l/"));
        await pair.RangeAsync(Prefix("l/", revision: pair.Revision - 1));
    }

    [EtcdFact]
    public async Task NoSpaceAlarm_CapsWritesThatAddData_UntilDisarmed_MatchEtcd()
    {
        using var pair = new DifferentialPair();
        const AlarmRequest.Types.AlarmAction List = AlarmRequest.Types.AlarmAction.Get;
        const AlarmRequest.Types.AlarmAction Raise = AlarmRequest.Types.AlarmAction.Activate;
        const AlarmRequest.Types.AlarmAction Disarm = AlarmRequest.Types.AlarmAction.Deactivate;
        await pair.PutAsync(Put("q/a", "1"));
        await pair.LeaseGrantAsync(50, 600);
        await pair.AlarmAsync(List, 0, AlarmType.None);
        await pair.AlarmAsync(Raise, 5, AlarmType.None); // stored (member 0 with None makes etcd 3.4 exit: "key required")
        await pair.AlarmAsync(Disarm, 5, AlarmType.None);
        await pair.AlarmAsync(Disarm, 7, AlarmType.Nospace); // nothing to disarm
        await pair.AlarmAsync(Raise, 7, AlarmType.Nospace);
        await pair.AlarmAsync(Raise, 7, AlarmType.Nospace); // already raised
        await pair.AlarmAsync(List, 0, AlarmType.None);
        await pair.AlarmAsync(List, 0, AlarmType.Nospace);
        await pair.AlarmAsync(List, 0, AlarmType.Corrupt);
        // Capped: puts, txns with top-level puts and lease grants fail; reads, deletes, revokes, compaction still apply.
        await pair.PutAsync(Put("q/b", "1"));
        await pair.TxnAsync(Txn([], [Op(Get("q/a"))], [Op(Put("q/b", "1"))]));
        await pair.TxnAsync(Txn([], [Op(Get("q/a")), Op(Txn([], [Op(Put("q/nested", "1"))]))])); // nested puts cost nothing
        await pair.TxnAsync(Txn([Version("q/a", R.Equal, 1)], [Op(Delete("q/a", prevKv: true))]));
        await pair.LeaseGrantAsync(51, 600);
        await pair.LeaseRevokeAsync(50);
        await pair.RangeAsync(Prefix("q/"));
        await pair.DeleteAsync(Delete("q/", PrefixEnd("q/"), prevKv: true));
        await pair.CompactAsync(pair.Revision);
        await pair.AlarmAsync(Disarm, 7, AlarmType.Nospace);
        await pair.AlarmAsync(List, 0, AlarmType.None);
        await pair.PutAsync(Put("q/b", "after"));
        await pair.LeaseGrantAsync(51, 600);
    }

    [EtcdFact]
    public async Task UnknownServicesAndMethods_AreUnimplemented_WithEtcdsMessages()
    {
        using var pair = new DifferentialPair();
        foreach (var (service, method) in new[] { ("etcdserverpb.KV", "Scan"), ("etcdserverpb.Nowhere", "Range"), ("grpc.health.v1.Health", "List"), ("x", "y") })
        {
            var marshaller = GrpcCore.Marshallers.Create<Empty>(message => message.ToByteArray(), Empty.Parser.ParseFrom);
            var descriptor = new GrpcCore.Method<Empty, Empty>(GrpcCore.MethodType.Unary, service, method, marshaller, marshaller);
            await pair.SameAsync($"{service}/{method}", clients =>
                clients.Invoker.AsyncUnaryCall(descriptor, null, new GrpcCore.CallOptions(deadline: DateTime.UtcNow.AddSeconds(15)), new Empty()).ResponseAsync);
        }
        // the known ones still answer
        await pair.PutAsync(Put("after", "v"));
        await pair.RangeAsync(Get("after"));
    }
}
