using Parley.Storage;

namespace Parley.Simulation.NodeMode;

public sealed partial class NodeSimulation
{
    private void ScheduleNemeses()
    {
        if (Parameters.CrashIntervalMicros > 0)
        {
            Events.After(Random.NextInt64(Parameters.CrashIntervalMicros * 2), CrashSomeone);
        }
        if (Parameters.PartitionIntervalMicros > 0 && Parameters.Nodes > 1)
        {
            Events.After(Random.NextInt64(Parameters.PartitionIntervalMicros * 2), Partition);
        }
    }

    private void CrashSomeone()
    {
        if (!_faultPhase)
        {
            return;
        }
        var running = _members.Where(m => m.IsRunning).ToList();
        if (running.Count > 0)
        {
            var victim = running[Random.Next(running.Count)];
            Trace.Add($"n{victim.Id} crashes ({victim})");
            victim.Crash();
            _crashes++;
            var incarnation = victim.Incarnation;
            Events.After(Random.NextInt64(Parameters.RestartDelayMaxMicros), () => Restart(victim, incarnation));
        }
        Events.After(Random.NextInt64(Parameters.CrashIntervalMicros * 2), CrashSomeone);
    }

    private void Restart(SimMember member, long incarnation)
    {
        if (!_faultPhase || member.IsRunning || member.IsDead || member.Incarnation != incarnation)
        {
            return;
        }
        (StorageFingerprint, string)? flipped = null;
        // A flip may cost the member (it refuses to start and stays down): keep a majority of voters that can run.
        if (Parameters.FlipProbability > 0 && FlipKeepsRunnableMajority() && Random.NextDouble() < Parameters.FlipProbability)
        {
            flipped = FlipStoredBit(member);
        }
        Start(member, flipped);
    }

    /// <summary>
    /// Bit rot while the member is down: recovers the disk once (the reference state, and any torn tail repaired),
    /// then flips one bit in the written part of a WAL segment, a snapshot file or the identity file.
    /// </summary>
    private (StorageFingerprint, string)? FlipStoredBit(SimMember member)
    {
        var fileSystem = member.FileSystem;
        StorageFingerprint reference;
        try
        {
            using var storage = MemberStorage.Open(fileSystem, SimMember.DataDirectory, new StorageIdentity(ClusterId, member.Id), StorageOptions());
            reference = StorageFingerprint.Capture(storage);
        }
        catch (Exception exception) when (exception is StorageCorruptionException or StorageRefusedException)
        {
            throw new SimulationViolation(
                $"recovery: member {member.Id} cannot start after a crash alone (no bit was flipped): {exception.Message}")
            { Kind = "durability" };
        }
        var candidates = new List<(string Path, long Length)>();
        AddFiles(fileSystem, SimMember.DataDirectory + "/wal", ".wal", candidates);
        var walFiles = candidates.Count;
        AddFiles(fileSystem, SimMember.DataDirectory + "/snap", ".snap", candidates);
        var roll = Random.NextDouble();
        int pick;
        if (roll < 0.05 || candidates.Count == 0)
        {
            candidates.Add((SimMember.DataDirectory + "/" + StorageFormat.IdentityFileName, WrittenLength(fileSystem, SimMember.DataDirectory + "/" + StorageFormat.IdentityFileName)));
            pick = candidates.Count - 1;
        }
        else if (roll < 0.35 && candidates.Count > walFiles)
        {
            pick = walFiles + Random.Next(candidates.Count - walFiles);
        }
        else
        {
            pick = walFiles > 0 ? Random.Next(walFiles) : Random.Next(candidates.Count);
        }
        var (path, length) = candidates[pick];
        if (length <= 0)
        {
            return null;
        }
        var offset = Random.NextInt64(length);
        var bit = Random.Next(8);
        fileSystem.FlipBit(path, offset, bit);
        _flips++;
        var where = $"{path} offset {offset} bit {bit}";
        Trace.Add($"n{member.Id} bit flip at {where} (stored: term={reference.HardState.Term} snapshot={reference.Snapshot.Metadata.Index} last={reference.LastIndex})");
        return (reference, where);
    }

    private static void AddFiles(SimulatedFileSystem fileSystem, string directory, string suffix, List<(string Path, long Length)> files)
    {
        if (!fileSystem.DirectoryExists(directory))
        {
            return;
        }
        foreach (var name in fileSystem.ListFiles(directory))
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                var path = directory + "/" + name;
                files.Add((path, WrittenLength(fileSystem, path)));
            }
        }
    }

    /// <summary>Up to the last non-zero byte: segments are preallocated, and bits flipped in their zero tail only look torn.</summary>
    private static long WrittenLength(SimulatedFileSystem fileSystem, string path)
    {
        using var file = fileSystem.OpenFile(path, writable: false);
        var content = new byte[file.Length];
        file.Read(0, content);
        return content.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
    }

    private void Partition()
    {
        if (!_faultPhase)
        {
            return;
        }
        var ids = _members.Where(m => !m.IsRetired).Select(m => m.Id).OrderBy(_ => Random.Next()).ToList();
        var kind = Random.Next(3);
        if (kind == 0)
        {
            var cut = 1 + Random.Next(ids.Count - 1);
            Network.Split(ids[..cut], ids[cut..]);
        }
        else if (kind == 1)
        {
            Network.Split(ids[..1], ids[1..]);
        }
        else
        {
            var cut = 1 + Random.Next(ids.Count - 1);
            Network.CutOneWay(ids[..cut], ids[cut..]);
        }
        _partitions++;
        Trace.Add($"partition: {Network.Describe()}");
        Events.After(Random.NextInt64(Parameters.PartitionDurationMaxMicros), () =>
        {
            if (_faultPhase)
            {
                Network.Heal();
                Trace.Add("partition healed");
            }
        });
        Events.After(Random.NextInt64(Parameters.PartitionIntervalMicros * 2), Partition);
    }
}
