// LeakSanitizer's suppressions for the programs that use libpqxx: libpqxx 6.4 leaks a libpq
// result (PQmakeEmptyPGresult, a few hundred bytes) when a connection breaks under it, as the
// tests of a server restart make it. Only leaks with a libpqxx frame are suppressed; without
// LeakSanitizer this function is never called.

extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() { return "leak:libpqxx\n"; }
