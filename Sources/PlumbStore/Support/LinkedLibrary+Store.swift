import CLZ4
import CSQLite
import PlumbCore

extension LinkedLibrary {
    /// The block compression of segments, bodies and the WAL.
    public static var lz4: LinkedLibrary { LinkedLibrary(name: "liblz4", version: String(cString: LZ4_versionString())) }
    /// The catalog.
    public static var sqlite: LinkedLibrary { LinkedLibrary(name: "libsqlite3", version: String(cString: sqlite3_libversion())) }
}
