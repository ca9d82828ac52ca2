#!/usr/bin/env python3
"""Writes src/auth/common_passwords.txt: passwords of at least 12 characters that attackers try
first (auth/password_policy.h refuses them, case-insensitively). Built from public knowledge of
how people pick passwords: frequent words and names with the usual digit/year/symbol suffixes,
words typed twice, digit runs and keyboard walks. Run it again after changing the lists below."""
import itertools
import pathlib

WORDS = """password passw0rd p@ssword p@ssw0rd passwort kodeord adgangskode losen salasana
qwerty qwertz azerty letmein welcome welkom velkommen admin administrator root login
iloveyou monkey dragon football baseball soccer hockey basketball sunshine princess master
shadow superman batman spiderman starwars trustno1 whatever computer internet freedom
michael jennifer jessica ashley charlie daniel thomas robert jordan hunter harley ranger
buster tigger summer winter spring autumn sommer vinter efterar foraar christmas jul
hello hellohello secret changeme default guest test tester testing abc abcd abc123
killer pepper ginger cookie cheese chocolate coffee banana orange apple purple yellow
silver golden diamond matrix mercedes ferrari porsche corvette mustang yankees lakers
liverpool chelsea arsenal barcelona manchester united brondby kobenhavn copenhagen danmark
denmark kommune municipality bysans sensor sensors school skole borger bruger user
flower angel lovely loveme lovers mylove babygirl blessed jesus family friends forever
nicole samantha maggie pokemon minecraft fortnite zxcvbnm asdfgh qazwsx dolphin
access access14 master123 superstar rockstar player gamer ninja wizard phoenix
""".split()

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "!", "1!",
            "123!", "!!", "01", "007", "69", "99", "2000", "11", "22", "321", "4321", "0", "00"]
SUFFIXES += [str(y) for y in range(1980, 2031)]
SUFFIXES += [str(y) + "!" for y in range(2020, 2031)]
PREFIXES = ["", "my"]

KEYBOARD = """qwertyuiop qwertyuiopasdfghjkl asdfghjkl zxcvbnm qazwsxedc qazwsxedcrfv
qazwsxedcrfvtgb 1qaz2wsx 1qaz2wsx3edc 1qaz2wsx3edc4rfv zaq12wsx zaq1zaq1 1q2w3e4r
1q2w3e4r5t 1q2w3e4r5t6y 1q2w3e4r5t6y7u q1w2e3r4t5y6 q1w2e3r4t5 qweasdzxc qweasdzxc123
asdfghjklzxcvbnm qwertyasdfgh qwertyasdfghzxcvbn asdfqwer asdfjkl poiuytrewq lkjhgfdsa
mnbvcxz 0987654321 1234qwer 1234qwerasdf qwer1234 asdf1234 zxcv1234 !qaz@wsx
""".split()

def digit_runs():
    out = set()
    seq = "12345678901234567890"
    for n in range(12, 21):
        out.add(seq[:n])
        out.add(seq[:n][::-1])
        out.add("0" + seq[:n - 1])
        for d in "0123456789":
            out.add(d * n)
    for unit in ["12", "123", "1234", "12345", "123456", "21", "321", "4321", "69", "007",
                 "11", "112", "911", "147", "159", "789", "987", "2580", "1212", "6969", "abc",
                 "ab", "xo", "ha", "aa", "qwe", "asd", "zxc", "1q", "a1", "abc123", "qwerty"]:
        for reps in range(2, 13):
            s = unit * reps
            if 12 <= len(s) <= 24:
                out.add(s)
    out.update(["147258369147", "159753159753", "741852963741", "123654789123",
                "abcdefghijkl", "abcdefghijklm", "abcdefghijklmnop", "abcdefghijklmnopqrstuvwxyz",
                "abcdefgh1234", "abcd12345678", "a1b2c3d4e5f6", "1a2b3c4d5e6f",
                "correcthorsebatterystaple", "iloveyouiloveyou", "thequickbrownfox",
                "thequickbrownfoxjumpsoverthelazydog", "letmeinletmein", "opensesame123"])
    return out

def main():
    out = set(digit_runs())
    for w in WORDS + KEYBOARD:
        for p, s in itertools.product(PREFIXES, SUFFIXES):
            out.add(p + w + s)
        out.add(w + w)
        out.add(w + w + w)
        out.add(w + "@" + "123456")
        out.add(w + "_" + "123456")
    for a, b in itertools.product(["iloveyou", "ilove", "love", "welcome", "hello", "letmein",
                                   "my", "super", "happy"], WORDS):
        out.add(a + b)
    for w in KEYBOARD:
        out.add(w + w[::-1])
    words = sorted(x.lower() for x in out if 12 <= len(x) <= 64)
    path = pathlib.Path(__file__).resolve().parent.parent / "src/auth/common_passwords.txt"
    path.write_text("\n".join(words) + "\n")
    print(f"{len(words)} passwords written to {path}")

main()
