using System.Runtime.InteropServices;
using SQLitePCL;

namespace Sluice.Sinks;

/// <summary>
/// The few SQLite calls of the online store's bind loop, called straight into the library Microsoft.Data.Sqlite uses
/// (e_sqlite3 by default, resolved the way its provider resolves it, so the statement handles are that library's). Each wrapper
/// call of SQLitePCLRaw looks its provider up, dispatches through an interface and counts a SafeHandle reference; the
/// group commit makes about seven such calls per row.
/// </summary>
/// <remarks>
/// The binds skip the GC transition (they are short, never block, since the online store's writer connection has no
/// mutex, and never call back): ten binds a row made the transitions a visible part of the writer's time. Step and
/// reset run SQLite's work and keep it.
/// </remarks>
internal static unsafe class SqliteNative
{
    /// <summary>SQLITE_TRANSIENT: SQLite copies the bytes before the bind returns, so nothing needs to stay pinned.</summary>
    private static readonly IntPtr Transient = new(-1);

    private static readonly delegate* unmanaged[SuppressGCTransition]<IntPtr, int, long, int> s_bindInt64;
    private static readonly delegate* unmanaged[SuppressGCTransition]<IntPtr, int, double, int> s_bindDouble;
    private static readonly delegate* unmanaged[SuppressGCTransition]<IntPtr, int, int> s_bindNull;
    private static readonly delegate* unmanaged[SuppressGCTransition]<IntPtr, int, byte*, int, IntPtr, int> s_bindText;
    private static readonly delegate* unmanaged[SuppressGCTransition]<IntPtr, int, byte*, int, IntPtr, int> s_bindBlob;
    private static readonly delegate* unmanaged<IntPtr, int> s_step;
    private static readonly delegate* unmanaged<IntPtr, int> s_reset;

    static SqliteNative()
    {
        // By the name of the library SQLitePCLRaw's current provider uses (e_sqlite3 unless an application set another),
        // resolved the way its DllImport resolves it: the statement handles must belong to that same library.
        var library = NativeLibrary.Load(raw.GetNativeLibraryName(), typeof(SQLite3Provider_e_sqlite3).Assembly, null);
        s_bindInt64 = (delegate* unmanaged[SuppressGCTransition]<IntPtr, int, long, int>)NativeLibrary.GetExport(library, "sqlite3_bind_int64");
        s_bindDouble = (delegate* unmanaged[SuppressGCTransition]<IntPtr, int, double, int>)NativeLibrary.GetExport(library, "sqlite3_bind_double");
        s_bindNull = (delegate* unmanaged[SuppressGCTransition]<IntPtr, int, int>)NativeLibrary.GetExport(library, "sqlite3_bind_null");
        s_bindText = (delegate* unmanaged[SuppressGCTransition]<IntPtr, int, byte*, int, IntPtr, int>)NativeLibrary.GetExport(library, "sqlite3_bind_text");
        s_bindBlob = (delegate* unmanaged[SuppressGCTransition]<IntPtr, int, byte*, int, IntPtr, int>)NativeLibrary.GetExport(library, "sqlite3_bind_blob");
        s_step = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "sqlite3_step");
        s_reset = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "sqlite3_reset");
    }

    public static int BindInt64(IntPtr stmt, int index, long value) => s_bindInt64(stmt, index, value);

    public static int BindDouble(IntPtr stmt, int index, double value) => s_bindDouble(stmt, index, value);

    public static int BindNull(IntPtr stmt, int index) => s_bindNull(stmt, index);

    /// <summary>Binds UTF-8 text; an empty span binds the empty string, not NULL.</summary>
    public static int BindText(IntPtr stmt, int index, ReadOnlySpan<byte> utf8)
    {
        byte empty = 0;
        fixed (byte* p = utf8) return s_bindText(stmt, index, utf8.IsEmpty ? &empty : p, utf8.Length, Transient);
    }

    /// <summary>Binds a blob; an empty span binds the empty blob, not NULL.</summary>
    public static int BindBlob(IntPtr stmt, int index, ReadOnlySpan<byte> bytes)
    {
        byte empty = 0;
        fixed (byte* p = bytes) return s_bindBlob(stmt, index, bytes.IsEmpty ? &empty : p, bytes.Length, Transient);
    }

    public static int Step(IntPtr stmt) => s_step(stmt);

    public static int Reset(IntPtr stmt) => s_reset(stmt);
}
