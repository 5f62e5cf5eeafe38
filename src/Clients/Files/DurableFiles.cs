using System.Runtime.InteropServices;

namespace Sluice.Clients;

/// <summary>
/// Durability past a machine crash (DESIGN.md section 4): a file's bytes are on disk once <c>FileStream.Flush(true)</c>
/// returns (fsync), but its name is on disk only once its folder is synced too, after the file was created or renamed.
/// </summary>
internal static class DurableFiles
{
    /// <summary>Renames a complete, fsynced file to its final name and syncs the folder, so the name survives power loss.</summary>
    public static void Publish(string path, string finalPath)
    {
        File.Move(path, finalPath, overwrite: true);
        SyncFolder(Path.GetDirectoryName(Path.GetFullPath(finalPath))!);
    }

    /// <summary>Syncs a folder's entries (names created, renamed or removed in it) to disk.</summary>
    public static void SyncFolder(string folder)
    {
        // Windows has no handle for a folder's entries: NTFS journals them itself.
        if (OperatingSystem.IsWindows()) return;
        int fd = Open(folder, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"{folder}: cannot open the folder to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"{folder}: syncing the folder failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Open(string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
