// serial.h — libasync's whole-file helpers: file2str and str2file.
//
//   str conf = file2str ("/etc/foo.conf");       // null str on error, errno says why
//   if (!str2file ("state", data, 0600))
//     warn ("cannot save state: %m\n");
//
// str2file replaces the file atomically: it writes a temporary file next to it and renames it
// over the old one, so a reader sees the old or the new contents, never a prefix. With excl it
// fails (EEXIST) if the file exists. With do_fsync the data reach the disk before the rename.
// Both block: call them at start-up or from a colored callback, not from a hot loop.
#ifndef _ASYNC_SERIAL_H_
#define _ASYNC_SERIAL_H_ 1

#include "str.h"

bool str2file (str file, str s, int perm = 0666, bool excl = false, struct stat *sbp = nullptr,
               bool binary = false, bool do_fsync = false);
str file2str (str file);

#endif
