"""Runs ClickHouse's `clickhouse local` entry point from chdb's libchdb.so as a server.

libchdb.so (the @chdb/lib-* npm package, ClickHouse 26.7) exports
chdb_query_cmdline(argc, argv), the whole `clickhouse local` command line. From
26.6 on it takes --http_port / --tcp_port / --listen_host and the statements
SYSTEM START LISTEN HTTP|TCP; the endless query given last keeps the process
and its listeners alive until it is signalled (SIGTERM stops it).

usage: python3 chdb-server.py LIBCHDB_SO [clickhouse local arguments...]
"""
import ctypes
import sys

if len(sys.argv) < 2:
    sys.stderr.write(__doc__)
    sys.exit(2)
lib = ctypes.CDLL(sys.argv[1])
args = [b"clickhouse"] + [a.encode() for a in sys.argv[2:]]
argv = (ctypes.c_char_p * len(args))(*args)
lib.chdb_query_cmdline.restype = ctypes.c_void_p
lib.chdb_query_cmdline(len(args), argv)
# The endless query ended: the server was stopped or failed (its log says which).
sys.exit(1)
