// Shared by the suites that run the `spikefly` binary of this build as a user
// does (test_bad_input, test_plot, test_sim_cli, test_report, test_experiments,
// test_run_dir, test_resume, test_mpi): a command line run with what it prints
// captured, a process started and waited for (to kill it meanwhile), its exit
// status checked, and whole files read and written.
#ifndef SF_CLI_TEST_UTIL_H
#define SF_CLI_TEST_UTIL_H

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// Runs a shell command line, its stdout and stderr together in *out; its
// exit status, or -1 when it could not be run or did not exit.
inline int run_sh(const std::string &line, std::string *out) {
  FILE *p = popen((line + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  out->clear();
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Runs `spikefly ARGS` (in directory cwd when given), as run_sh.
inline int run(const std::string &args, std::string *out, const std::string &cwd = "") {
  return run_sh((cwd.empty() ? "" : "cd '" + cwd + "' && ") + SF_BINARY_DIR "/spikefly " + args, out);
}

// Starts args (a program path and its arguments) as a process of its own:
// in directory cwd when given, stdout discarded, stderr into `log`.
inline pid_t spawn(const std::vector<std::string> &args, const std::string &log = "/dev/null",
                   const std::string &cwd = "") {
  pid_t pid = fork();
  if (pid == 0) {
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    if (!freopen("/dev/null", "w", stdout) || !freopen(log.c_str(), "w", stderr)) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for a spawned process: its exit status, or minus the signal that
// ended it.
inline int wait_exit(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

// `spikefly ARGS` is a usage error (exit code 2) whose message names `named`
// (the option, config key or file at fault).
inline void expect_usage_error(const std::string &args, const std::string &named) {
  std::string out;
  EXPECT_EQ(run(args, &out), 2) << args << "\n" << out;
  EXPECT_NE(out.find(named), std::string::npos) << args << " did not name " << named << ":\n" << out;
}

// The whole file, "" when it cannot be read.
inline std::string read_file(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Replaces the file with `text`.
inline void write_file(const std::string &path, const std::string &text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  EXPECT_TRUE(f.good()) << "cannot write " << path;
}

// The fields of one CSV line (no quoted commas), a trailing empty one kept.
inline std::vector<std::string> csv_fields(const std::string &line) {
  std::vector<std::string> f;
  std::stringstream s(line);
  std::string x;
  while (std::getline(s, x, ',')) f.push_back(x);
  if (!line.empty() && line.back() == ',') f.push_back("");
  return f;
}

#endif
