// parseopt.h's config-file half: parseargs' word rules (quotes, escapes, continuations, comment
// lines) and conftab's directives (bounds, defaults, duplicates, callbacks, unknown lines), each
// on a small file written by the test.
#include "parseopt.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <string>

namespace {

// A config file in a temporary directory, removed at the end of the test.
class config_file {
  std::string path_;

public:
  explicit config_file (const std::string &text)
  {
    char tmpl[] = "/tmp/hue_conftab_XXXXXX";
    int fd = mkstemp (tmpl);
    EXPECT_GE (fd, 0);
    path_ = tmpl;
    EXPECT_EQ (write (fd, text.data (), text.size ()), ssize_t (text.size ()));
    close (fd);
  }
  ~config_file () { unlink (path_.c_str ()); }
  str path () const { return path_.c_str (); }
};

// Collects errors instead of exiting (libasync's parseargs lets a subclass do this).
class collecting_parser : public parseargs {
public:
  vec<str> errors;
  explicit collecting_parser (str file) : parseargs (file) {}

protected:
  void error (str msg) override { errors.push_back (msg); }
};

TEST (async_conftab, parseargs_words_quotes_escapes_continuations_and_comments)
{
  config_file f ("# a comment line\n"
                 "\n"
                 "Name  \"two words\"  plain\n"
                 "Path a\\ b \\\"q\\\"\n"
                 "Long one \\\n"
                 "   two\n"
                 "   # not a comment: a word\n");
  collecting_parser pa (f.path ());
  vec<str> av;
  int line = 0;
  ASSERT_TRUE (pa.getline (&av, &line));
  EXPECT_EQ (line, 3);
  ASSERT_EQ (av.size (), 3u);
  EXPECT_EQ (av[0], "Name");
  EXPECT_EQ (av[1], "two words");
  EXPECT_EQ (av[2], "plain");
  ASSERT_TRUE (pa.getline (&av, &line));
  EXPECT_EQ (line, 4);
  ASSERT_EQ (av.size (), 3u);
  EXPECT_EQ (av[1], "a b");
  EXPECT_EQ (av[2], "\"q\"");
  ASSERT_TRUE (pa.getline (&av, &line));
  EXPECT_EQ (line, 5);
  ASSERT_EQ (av.size (), 3u);  // the continuation joined the next line
  EXPECT_EQ (av[2], "two");
  ASSERT_TRUE (pa.getline (&av, &line));
  EXPECT_EQ (line, 7);
  ASSERT_EQ (av.size (), 6u);
  EXPECT_EQ (av[0], "#");
  EXPECT_FALSE (pa.getline (&av, &line));
  EXPECT_TRUE (pa.errors.empty ());
}

TEST (async_conftab, parseargs_reports_a_missing_file_and_an_open_quote)
{
  // Reported from the constructor, so through parseargs' own error () even in a subclass (as in
  // libasync): a config that cannot be read is fatal.
  EXPECT_EXIT (collecting_parser ("/nonexistent/hue-conftab"), testing::ExitedWithCode (1),
               "/nonexistent/hue-conftab: No such file or directory");
  vec<str> av;

  config_file f ("Key \"unterminated");
  collecting_parser pa (f.path ());
  ASSERT_TRUE (pa.getline (&av));
  EXPECT_EQ (av[1], "unterminated");
  ASSERT_EQ (pa.errors.size (), 1u);
  EXPECT_EQ (pa.errors[0], "closing '\"' missing");
}

vec<str> listen_words;
str listen_loc;

void
got_listen (vec<str> words, str loc, bool *err)
{
  listen_words = words;
  listen_loc = loc;
  if (words.size () != 3)
    *err = true;
}

str mode_seen;
void
got_mode (str v)
{
  mode_seen = v;
}

TEST (async_conftab, directives_fill_variables_within_bounds)
{
  config_file f ("topdir /srv/www\n"
                 "PORT 8080   # trailing comment\n"
                 "Verbose 1\n"
                 "Ratio 0.25\n"
                 "Listen 127.0.0.1 80\n"
                 "Mode fast\n"
                 "Legacy whatever it says\n");
  str topdir, mode;
  int port = 0;
  bool verbose = false;
  double ratio = 0;
  u_int64_t size = 0;
  conftab ct;
  ct.add ("TopDir", &topdir)
    .add ("Port", &port, 1, 65535)
    .add ("Verbose", &verbose)
    .add ("Ratio", &ratio, 0.0, 1.0)
    .add ("Listen", wrap (got_listen))
    .ads ("Mode", wrap (got_mode))
    .add ("Size", &size, 1, 1 << 20, 4096)
    .ignore ("Legacy");
  conftab::status_t st;
  EXPECT_TRUE (ct.run (f.path (), CONFTAB_APPLY_DEFAULTS, -1, &st));
  EXPECT_EQ (st, conftab::OK);
  EXPECT_EQ (topdir, "/srv/www");  // names match case-insensitively
  EXPECT_EQ (port, 8080);
  EXPECT_TRUE (verbose);
  EXPECT_DOUBLE_EQ (ratio, 0.25);
  ASSERT_EQ (listen_words.size (), 3u);
  EXPECT_EQ (listen_words[0], "Listen");
  EXPECT_EQ (listen_loc, strbuf () << f.path () << ":5");
  EXPECT_EQ (mode_seen, "fast");
  EXPECT_EQ (size, 4096u);  // not in the file: its default

  vec<str> rep;
  ct.report (&rep);
  ASSERT_EQ (rep.size (), 8u);
  EXPECT_EQ (rep[0], "'TopDir'   ->  \"/srv/www\"");
  EXPECT_EQ (rep[2], "'Verbose'  ->  True");
  EXPECT_EQ (rep[6], "'Size'     ->  4096 (by default)");
  EXPECT_EQ (rep[7], "'Legacy'   ->  IGNORED");
}

TEST (async_conftab, bad_values_unknown_directives_and_redefinitions_fail_the_run)
{
  str topdir;
  int port = 0;
  bool verbose = false;
  conftab ct;
  ct.add_check ("TopDir", &topdir).add ("Port", &port, 1, 65535).add ("Verbose", &verbose);

  config_file out_of_range ("Port 70000\n");
  conftab::status_t st;
  EXPECT_FALSE (ct.run (out_of_range.path (), 0, -1, &st));
  EXPECT_EQ (st, conftab::ERROR);
  EXPECT_EQ (port, 0);

  config_file unknown ("Porrt 80\n");
  EXPECT_FALSE (ct.run (unknown.path (), 0, -1, &st));
  EXPECT_EQ (st, conftab::UNKNOWN);

  config_file twice ("TopDir /a\nTopDir /b\n");
  EXPECT_FALSE (ct.run (twice.path (), 0, -1, &st));
  EXPECT_EQ (st, conftab::ERROR);
  EXPECT_EQ (topdir, "/a");  // add_check: the second definition is refused

  config_file not_bool ("Verbose yes\n");
  EXPECT_FALSE (ct.run (not_bool.path (), 0, -1, &st));
  EXPECT_FALSE (verbose);

  config_file no_value ("Port\n");
  EXPECT_FALSE (ct.run (no_value.path (), 0, -1, &st));
  EXPECT_EQ (st, conftab::ERROR);
}

}  // namespace
