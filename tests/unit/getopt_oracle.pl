#!/usr/bin/perl
# getopt_oracle.pl - Perl's own Getopt::Long as the oracle for
# src/cli/perl_getopt.c (driven by test_perl_getopt_oracle.c).
#
# Input, one command line per line: "PERSONALITY MODE ARG...", MODE "d" for
# Getopt::Long's defaults or "p" for POSIXLY_CORRECT, each ARG its bytes in
# hex after an "x" ("x" alone is the empty argument). The first line names
# the C tables: "spec PERSONALITY SPEC..." and "extras PERSONALITY NAME..."
# lines come first; a spec list that differs from the scripts' is fatal.
#
# Output, one line per command line, tokens separated by spaces, each
# payload percent-encoded: "E:messages" (everything Getopt::Long warned, in
# order), then "A:help" or "A:version" when that option stopped the parse,
# else "R:ok|fail", "O:name=value" or "O:name=[v,v]" per option set (sorted)
# and "P:operand" for each operand left in @ARGV.
#
# zkeep's extras are accepted exactly where Getopt::Long says "Unknown option:
# NAME" with NAME their whole name; that is what this oracle reports for them.
use strict;
use warnings;
use Getopt::Long ();

delete $ENV{POSIXLY_CORRECT};

# The GetOptions lists of sanoid and syncoid 2.3.0, verbatim (the linkage
# of syncoid's pv-options and mbuffer-size to scalars changes no parse).
my %scripts = (
    sanoid => [ "verbose", "debug", "cron", "readonly", "quiet",
                "configdir=s", "cache-dir=s", "run-dir=s",
                "monitor-health", "force-update",
                "monitor-snapshots", "take-snapshots", "prune-snapshots", "force-prune",
                "monitor-capacity", "cache-ttl=i" ],
    syncoid => [ "no-command-checks", "monitor-version", "compress=s", "dumpsnaps", "recursive|r", "sendoptions=s", "recvoptions=s",
                 "source-bwlimit=s", "target-bwlimit=s", "sshconfig=s", "sshkey=s", "sshport=i", "sshcipher|c=s", "sshoption|o=s@",
                 "debug", "quiet", "no-stream", "no-sync-snap", "no-resume", "exclude=s@", "skip-parent", "identifier=s",
                 "no-clone-handling", "no-privilege-elevation", "force-delete", "no-rollback", "create-bookmark", "use-hold",
                 "pv-options=s", "keep-sync-snap", "preserve-recordsize", "mbuffer-size=s",
                 "delete-target-snapshots", "insecure-direct-connection=s", "preserve-properties",
                 "include-snaps=s@", "exclude-snaps=s@", "exclude-datasets=s@" ],
);
my %extras;

sub enc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.,:@+\/-])/sprintf("%%%02X", ord $1)/ge;
    return $s;
}

# --help and --version print and exit in the scripts; here they end the
# parse (GetOptions' "!FINISH") and are reported.
my $action;
{
    no warnings 'redefine';
    no warnings 'prototype';
    *Getopt::Long::HelpMessage = sub (@) { $action = 'help'; die "!FINISH\n" };
    *Getopt::Long::VersionMessage = sub (@) { $action = 'version'; die "!FINISH\n" };
}

$| = 1;
while (my $line = <STDIN>) {
    chomp $line;
    my ($personality, $mode, @args) = split / /, $line;
    if ($personality eq 'spec') {
        my $want = join(' ', @{ $scripts{$mode} or die "no script $mode\n" });
        my $got = join(' ', @args);
        die "the C table of $mode differs from $mode 2.3.0's GetOptions list:\n  C:    $got\n  Perl: $want\n"
            if $got ne $want;
        next;
    }
    if ($personality eq 'extras') {
        $extras{$mode} = { map { $_ => 1 } @args };
        next;
    }
    my $spec = $scripts{$personality} or die "no script $personality\n";
    @args = map { pack('H*', substr($_, 1)) } @args;

    Getopt::Long::Configure($mode eq 'p' ? 'posix_default' : 'default', 'auto_version', 'auto_help');
    my (%h, @warnings);
    $action = undef;
    # after --help the scripts have exited: what Getopt::Long says then is not theirs
    local $SIG{__WARN__} = sub { push @warnings, $_[0] unless $action };
    my @argv = @args;
    Getopt::Long::GetOptionsFromArray(\@argv, \%h, @$spec);

    my $messages = '';
    for my $w (@warnings) {
        if ($w =~ /^Unknown option: (.*)\n\z/s && $extras{$personality}{lc $1}) {
            $h{lc $1} = 1;
            next;
        }
        $messages .= $w;
    }
    my @out;
    push @out, 'E:' . enc($messages) if length $messages;
    if ($action) {
        push @out, "A:$action";
    } else {
        push @out, 'R:' . (length $messages ? 'fail' : 'ok');
        for my $k (sort keys %h) {
            my $v = $h{$k};
            push @out, 'O:' . enc($k) . '='
                . (ref $v ? '[' . join(',', map { enc($_) } @$v) . ']' : enc($v));
        }
        push @out, 'P:' . enc($_) for @argv;
    }
    print join(' ', @out), "\n";
}
