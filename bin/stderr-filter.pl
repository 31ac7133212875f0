#!/usr/bin/perl
# Passes the JVM's stderr through, minus the start-up warnings the launcher cannot switch off
# (incubator modules, sun.misc.Unsafe from third-party jars). Streams: a line that cannot be one of
# those warnings is written as soon as its first bytes show that, so progress lines rewritten in
# place with \r appear as they happen; only a line that starts like a warning waits for its end.
use strict;
use warnings;

my $drop = qr/^WARNING: (.*Unsafe|Please consider reporting|sun\.misc\.Unsafe|A terminally deprecated|Using incubator modules)/;
my $prefix = 'WARNING: ';
$| = 1;
my ($held, $passing) = ('', 0);    # the current line's undecided bytes; whether it is being passed
while (sysread(STDIN, my $chunk, 8192)) {
    for my $part (split /(?<=[\r\n])/, $chunk) {
        my $ends = $part =~ /[\r\n]$/;
        if ($passing) {
            print $part;
        } else {
            $held .= $part;
            if ($ends) {
                print $held unless $held =~ $drop;
            } elsif (substr($held, 0, length $prefix) ne substr($prefix, 0, length $held)) {
                print $held;    # cannot be a warning: pass it and the rest of its line now
                $passing = 1;
            }
        }
        ($held, $passing) = ('', 0) if $ends;
    }
}
print $held if length $held && $held !~ $drop;
