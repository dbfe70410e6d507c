#!/usr/bin/perl
# sanoid_ini_oracle.pl - differential test of zkeep's sanoid.conf reader
# (src/snapshots/sanoid_ini.c) against Perl's Config::IniFiles, which sanoid 2.3.0 uses.
#
#   sanoid_ini_oracle.pl TEST-SANOID-INI CASES-DIR [COUNT [SEED]]
#
# Every file in CASES-DIR, then COUNT configs made up from tricky pieces by a PRNG
# seeded with SEED, are read by both; their readings (see tests/tools/test-sanoid-ini.c
# for the form) must be the same. TAP; exit 77 (skip) without Config::IniFiles.
use strict;
use warnings;
use File::Temp qw(tempdir);

eval { require Config::IniFiles; 1 } or do { print "1..0 # SKIP no Config::IniFiles\n"; exit 77 };

my ($tool, $cases, $count, $seed) = @ARGV;
$count //= 2000;
$seed //= 14;
my $dir = tempdir(CLEANUP => 1);

sub esc {
	my $s = shift;
	$s =~ s/([^\x20-\x7e]|\\)/sprintf("\\x%02X", ord($1))/ge;
	return "$s\n";
}

# What sanoid gets: tie %ini, 'Config::IniFiles', (-file => $file).
sub oracle {
	my $file = shift;
	local @Config::IniFiles::errors;
	my $cfg = Config::IniFiles->new(-file => $file);
	if (!$cfg) {
		my $e = $Config::IniFiles::errors[0] // '';
		my $line = $e =~ /^(\d+): / ? $1 : $e =~ /^Line (\d+) in file/ ? $1 : 0;
		return "error $line\n";
	}
	my $out = '';
	for my $s ($cfg->Sections) {
		$out .= '[' . esc($s);
		for my $k ($cfg->Parameters($s)) {
			$out .= esc($k);
			$out .= '=' . esc($_) for $cfg->val($s, $k);
		}
	}
	return $out;
}

sub zkeep {
	my $file = shift;
	open(my $fh, '-|', $tool, $file) or die "cannot run $tool: $!";
	local $/;
	my $out = <$fh> // '';
	close $fh;
	return $out;
}

my @files;
if (opendir(my $dh, $cases)) {
	push @files, map { "$cases/$_" } sort grep { !/^\./ } readdir $dh;
}

# Made-up configs: lines of pieces that sit on Config::IniFiles' edges.
srand($seed);
my @names = ('a', 'tank/home', 'template_x', 'a b', ' a ', 'a]b', '', '[', 'A');
my @pieces = ('[', ']', ' ', "\t", '=', '#', ';', '<<EOT', 'EOT', 'k', 'v', 'no ; x', '5 # y',
	"\x0b", "\f", "\xa0", "\x85", "\xef\xbb\xbf", "\r", "\x15", '\\', ' = ', '==', 'x y');
my @seps = ("\n", "\n", "\n", "\r\n", "\r", "\x15");
sub pick { $_[int(rand(@_))] }
for my $n (1 .. $count) {
	my $sep = pick(@seps);
	my $text = '';
	for (1 .. 1 + int(rand(8))) {
		my $r = rand();
		my $line;
		if ($r < 0.25) {
			$line = pick('', ' ', "\t") . '[' . pick(@names) . ']' . pick('', ' ', 'x', ']');
		} elsif ($r < 0.6) {
			$line = pick('', ' ', "\t") . pick('k', 'hourly', 'k k', 'K', '') . pick('=', ' = ', ' =', "\t=\t")
				. pick('v', '', 'no ; x', '5 # y', 'v  ', '<<EOT', '<<', "v\xa0", '=v');
		} elsif ($r < 0.7) {
			$line = pick('EOT', '', 'EOT ', ' # c', '; c');
		} else {
			$line = join('', map { pick(@pieces) } 1 .. int(rand(6)));
		}
		$text .= $line . (rand() < 0.1 ? pick(@seps) : $sep);
	}
	$text = substr($text, 0, length($text) - 1) if rand() < 0.1; # no final line end
	my $f = "$dir/gen$n.conf";
	open(my $fh, '>:raw', $f) or die;
	print $fh $text;
	close $fh;
	push @files, $f;
}

print "1..", scalar(@files), "\n";
my $fail = 0;
my $i = 0;
for my $f (@files) {
	$i++;
	my ($want, $got) = (oracle($f), zkeep($f));
	if ($want eq $got) {
		print "ok $i - $f\n";
		next;
	}
	$fail++;
	open(my $fh, '<:raw', $f) or die;
	local $/;
	my $text = <$fh>;
	print "not ok $i - $f\n# input: ", esc($text), "# Config::IniFiles:\n",
		join('', map { "#   $_\n" } split /\n/, $want), "# zkeep:\n",
		join('', map { "#   $_\n" } split /\n/, $got);
}
exit($fail ? 1 : 0);
