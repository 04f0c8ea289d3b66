using System.Globalization;
using System.Text;
using Parley.Checker.Search;

namespace Parley.Checker.Models.Etcd;

/// <summary>
/// etcd's KV semantics with revisions, in the style of etcd's robustness-test model: every change bumps
/// the one global revision, which responses report, so keys are coupled and the history is NOT
/// partitioned by key. Non-deterministic: a request whose outcome is unknown leads both to "applied" and
/// to "not applied" (checked through <see cref="PowerSetModel{TState, TInput, TOutput}"/>).
/// Not modelled yet: ranges, leases, compaction, gets inside a Txn.
/// </summary>
public sealed class EtcdModel : INondeterministicModel<EtcdState, EtcdRequest, EtcdResponse>
{
    public static EtcdModel Instance { get; } = new();

    /// <inheritdoc />
    public EtcdState InitialState => EtcdState.Empty;

    /// <inheritdoc />
    public void Step(EtcdState state, EtcdRequest input, EtcdResponse output, ICollection<EtcdState> nextStates)
    {
        var applied = Apply(state, input);
        if (output.IsUnknown)
        {
            nextStates.Add(state);
            if (!ReferenceEquals(applied.State, state))
            {
                nextStates.Add(applied.State);
            }

            return;
        }

        if (Matches(applied, input, output))
        {
            nextStates.Add(applied.State);
        }
    }

    /// <inheritdoc />
    public bool AreEqual(EtcdState left, EtcdState right) => left.IsEqualTo(right);

    /// <inheritdoc />
    public ulong Hash(EtcdState state) => state.Hash;

    /// <inheritdoc />
    public string DescribeOperation(EtcdRequest input, EtcdResponse output)
    {
        var request = input.Kind switch
        {
            EtcdRequestKind.Get => $"get({input.Key})",
            EtcdRequestKind.Put => $"put({input.Key}, {Quote(input.Value)})",
            EtcdRequestKind.Delete => $"delete({input.Key})",
            _ => DescribeTxn(input),
        };
        if (output.IsUnknown)
        {
            return request + " -> ?";
        }

        var response = new List<string>();
        if (input.Kind == EtcdRequestKind.Get)
        {
            response.Add(output.Value is null ? "absent" : Quote(output.Value));
        }

        AddIfPresent(response, "succeeded", output.Succeeded?.ToString().ToLowerInvariant());
        AddIfPresent(response, "deleted", output.Deleted);
        AddIfPresent(response, "mod_rev", output.ModRevision);
        AddIfPresent(response, "rev", output.Revision);
        return request + " -> " + (response.Count == 0 ? "ok" : string.Join(", ", response));
    }

    /// <inheritdoc />
    public string DescribeState(EtcdState state)
    {
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"rev {state.Revision} {{");
        var first = true;
        foreach (var (key, entry) in state.Keys.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            builder.Append(first ? " " : ", ");
            builder.Append(CultureInfo.InvariantCulture, $"{key}={Quote(entry.Value)}@{entry.ModRevision}");
            first = false;
        }

        return builder.Append(" }").ToString();
    }

    /// <summary>The deterministic effect of a request that did take effect, and what it should have answered.</summary>
    private static (EtcdState State, EtcdKeyValue? Read, long Deleted, bool Succeeded) Apply(EtcdState state, EtcdRequest input)
    {
        switch (input.Kind)
        {
            case EtcdRequestKind.Get:
                return (state, state.Keys.TryGetValue(input.Key, out var entry) ? entry : null, 0, true);
            case EtcdRequestKind.Put:
            case EtcdRequestKind.Delete:
                var single = new EtcdTxnOperation(input.Kind, input.Key, input.Value);
                var (afterSingle, deletedSingle) = ApplyWrites(state, [single]);
                return (afterSingle, null, deletedSingle, true);
            default:
                var succeeded = input.Compares.All(compare => Holds(state, compare));
                var (afterTxn, deletedTxn) = ApplyWrites(state, succeeded ? input.Success : input.Failure);
                return (afterTxn, null, deletedTxn, succeeded);
        }
    }

    // All writes of one request share one new revision; a request that changes nothing keeps the revision
    // (etcd does not bump it for deleting an absent key or for a read-only Txn branch).
    private static (EtcdState State, long Deleted) ApplyWrites(EtcdState state, IReadOnlyList<EtcdTxnOperation> writes)
    {
        var revision = state.Revision + 1;
        var changes = new Dictionary<string, EtcdKeyValue?>(StringComparer.Ordinal);
        long deleted = 0;
        foreach (var write in writes)
        {
            var current = changes.TryGetValue(write.Key, out var changed)
                ? changed
                : state.Keys.TryGetValue(write.Key, out var existing) ? existing : null;
            if (write.Kind == EtcdRequestKind.Put)
            {
                changes[write.Key] = current is { } live
                    ? new EtcdKeyValue(write.Value ?? string.Empty, live.CreateRevision, revision, live.Version + 1)
                    : new EtcdKeyValue(write.Value ?? string.Empty, revision, revision, 1);
            }
            else if (current is not null)
            {
                changes[write.Key] = null;
                deleted++;
            }
        }

        return changes.Count == 0 ? (state, deleted) : (state.With(revision, changes), deleted);
    }

    private static bool Holds(EtcdState state, EtcdCompare compare)
    {
        var exists = state.Keys.TryGetValue(compare.Key, out var entry);
        int ordering;
        if (compare.Target == EtcdCompareTarget.Value)
        {
            if (!exists)
            {
                return false;
            }

            ordering = string.CompareOrdinal(entry.Value, compare.ValueOperand ?? string.Empty);
        }
        else
        {
            var field = compare.Target switch
            {
                EtcdCompareTarget.ModRevision => entry.ModRevision,
                EtcdCompareTarget.CreateRevision => entry.CreateRevision,
                _ => entry.Version,
            };
            ordering = field.CompareTo(compare.RevisionOperand);
        }

        return compare.Result switch
        {
            EtcdCompareResult.Equal => ordering == 0,
            EtcdCompareResult.NotEqual => ordering != 0,
            EtcdCompareResult.Less => ordering < 0,
            _ => ordering > 0,
        };
    }

    private static bool Matches((EtcdState State, EtcdKeyValue? Read, long Deleted, bool Succeeded) applied, EtcdRequest input, EtcdResponse output)
    {
        if (output.Revision is { } revision && revision != applied.State.Revision)
        {
            return false;
        }

        return input.Kind switch
        {
            EtcdRequestKind.Get => string.Equals(output.Value, applied.Read?.Value, StringComparison.Ordinal)
                && (output.ModRevision is null || output.ModRevision == (applied.Read?.ModRevision ?? 0)),
            EtcdRequestKind.Delete => output.Deleted is null || output.Deleted == applied.Deleted,
            EtcdRequestKind.Txn => output.Succeeded is null || output.Succeeded == applied.Succeeded,
            _ => true,
        };
    }

    private static string DescribeTxn(EtcdRequest input)
    {
        static string Write(EtcdTxnOperation write) =>
            write.Kind == EtcdRequestKind.Put ? $"put({write.Key}, {Quote(write.Value)})" : $"delete({write.Key})";

        var compares = string.Join(" && ", input.Compares.Select(compare =>
        {
            var field = compare.Target switch
            {
                EtcdCompareTarget.Value => "value",
                EtcdCompareTarget.ModRevision => "mod_rev",
                EtcdCompareTarget.CreateRevision => "create_rev",
                _ => "version",
            };
            var relation = compare.Result switch
            {
                EtcdCompareResult.Equal => "==",
                EtcdCompareResult.NotEqual => "!=",
                EtcdCompareResult.Less => "<",
                _ => ">",
            };
            var operand = compare.Target == EtcdCompareTarget.Value
                ? Quote(compare.ValueOperand)
                : compare.RevisionOperand.ToString(CultureInfo.InvariantCulture);
            return $"{field}({compare.Key}) {relation} {operand}";
        }));
        var success = string.Join("; ", input.Success.Select(Write));
        var failure = string.Join("; ", input.Failure.Select(Write));
        return $"txn(if {compares} then [{success}] else [{failure}])";
    }

    private static void AddIfPresent<T>(List<string> parts, string name, T? value)
    {
        if (value is not null)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {value}"));
        }
    }

    private static string Quote(string? value) => value is null ? "nil" : "\"" + value + "\"";
}
