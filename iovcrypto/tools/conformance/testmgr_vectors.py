"""Vectors transcribed from the kernel's ``crypto/testmgr.h`` for the
algorithms no library offers a reference for, so the default run checks
our cores against outputs we did not compute.

* ``aegis128_tv_template`` (24 vectors; testmgr says they were generated
  with the SUPERCOP reference implementation, supercop-20170228
  crypto_aead/aegis128).  Lengths 0..65 bytes of AD and text, every
  authsize from 8 to 16 among them.

Transcribed from the copy of crypto/testmgr.h in
CodeLinaro-mirror/qsdk_oss_kernel_linux-ipq-6.6 (a v6.6 tree); with a
kernel tree, ``--testmgr`` reads that tree's own arrays instead.  Rows are
hex strings: (key, iv, assoc, ptext, ctext ‖ tag).
"""

from __future__ import annotations

_SRC_AEGIS = "crypto/testmgr.h aegis128_tv_template"

# (key, iv, assoc, ptext, ctext) as hex; ctext carries the tag.
AEGIS128: list[tuple[str, str, str, str, str]] = [
    ("0fc98e67449eaa8620362c24fec93081", "1e921ccf883d540d406d5948fc926103",
     "",
     "",
     "07a511f29d40b86ddab812344c53d972"),
    ("4bedc807541a52a2a110deb5f8edf387", "5ab7566e98b9fd29c1470bdaf6b62309",
     "",
     "79",
     "9e7852aecb9ee4d39ad75dd7aa9ae95acc"),
    ("881201a66496fbbe22ea9047f211b58e", "97db900ea835a5454221bd6bf0dae60f",
     "",
     "b56eaddd3072fa53828e16b4ed6d47",
     "c38083045faa61c7cadd6fac8508b5352bc23e0b1b39372b7a2116b3e66766"),
    ("c4373b457411a4daa2c542d8ec367894", "d300c9adb8b04e61c3fb6ffdeaffa915",
     "",
     "f292e67d40eea36f0368c845e7910a18",
     "232530e56ab6367d38fd3ad2c258a9111ea8309c16a4db6551101627709b6429"),
    ("015c75e5848d4df6239ff46ae65a3b9a", "1025034cc82cf77d44d5218ee4236b1c",
     "",
     "2eb7201c506a4b8b84427ad7e1b5cd1fd3",
     "2a8d5691c6f356a51ff0892e13ade6f64680b10e1830409703df643cbe939ec9"
     "3b"),
    ("3d80ae849409f612a479a6fbe07ffda0", "4c493decd8a8a098c5b0d31fde482e22",
     "",
     "6bdc5abb60e5f4a6051d2c68dbda8f25fe8d45191ec00b99881139121c3abb",
     "4ef6fa13de43634ce2043ee48514b63fb18f4cdb41a21499f5530f73867e97a1"
     "4b565b94cecd74cd75c45301894559"),
    ("7aa5e823a4849e2d2553588cdaa3c0a6", "896e778be82349b4458a85b1d86cf128",
     "",
     "a700935b70619dc286f7defad5fe522b2850519d24608db3493e17eaf6995add",
     "a49ab7fda0d4d64795f45838148327014ced322cf7d631f7381b2cc9b631ceaa"
     "a53c1a185cceb9df515277f25e858041"),
    ("b6ca22c3b4004749a62d0a1ed4c783ad", "c593b02af89ff1d0c6643742d290b32e",
     "d5",
     "",
     "fbd483719e63ad60b9f9eb345249cfb7"),
    ("f3ee5c62c47cf0652708bdafceec45b3", "02b8eaca091b9aec473ee9d4ccb57634",
     "118178324db94473687516f8cb7ea7",
     "",
     "0caf2e96f69708717d3a84c44457777e"),
    ("2f139501d5f79981a8e26f41c81008b9", "3fdc246919964308c8189b65c6d9393b",
     "4ea5b2d15d35ed8fe84fc889c5a269bc",
     "",
     "c787093bc719742222a56710b236b345"),
    ("6c38cfa1e573419d29bc21d2c235cbbf", "7b015d082912ec2449f34df7c0fefb41",
     "8acaec706db196ab69297a1bbfc72cc207",
     "",
     "02c63b4665b2ef9131f045488a2aede4"),
    ("a85c0940f5efeab8aa96d364bc598dc6", "b82697a8398e943fcacdff88ba22be47",
     "c7ef26107d2c3fc6ea032cacb9ebefc9316b0812fcd8372de0173a2e835c8f",
     "",
     "2085a8d0914885f35a16c0576847ddcb"),
    ("e58142df056a93d42b7085f5b67d50cc", "f44ad14749093d5b4ba7b119b446814d",
     "03145faf8da8e7e26bdede3eb310b1cf5c2d14960178b947a14419065dbb2e2f",
     "",
     "6af88d9c42753579c196bd316e691b50"),
    ("22a67c7f15e63cf0ac4b3786b0a213d2", "316f0be65985e677cc8163abae6b4354",
     "40",
     "4f",
     "0124b1baf6d3df837045e32a9d5c639839"),
    ("5ecbb61e2562e40c2d25e918aac6d5d8", "6d94448669008f934d5b153ca88f065a",
     "7c5dd3eead9f391a6d924261a75837",
     "8b266155f13ee3a18dc86e85a52167",
     "1878c26ee1f7e68aca0e6200a821b5213d36dbf7cc31949c98bd717aefa4fa"),
    ("9beff0bd35dd8d28adff9ba9a4eb98df", "aab87e25797c37afce36c7cea2b4c960",
     "b9820c8dbd1be236ee6cf4f2a17df9e2",
     "c84b9bf501ba8cbd0ea321169f462a63",
     "ead18175b4131d86d41726e5d6893904a96ccaac4073b24c9cb90e794c4065c6"),
    ("d714295d455936442ed94d3b9e0f5be5", "e6ddb8c489f8e0ca4f107a5f9cd88b66",
     "f5a6462cce978a516f46a6839ba1bce805",
     "0570d594123635d88f7dd3a8996aed69d0",
     "f4b284d181fa981c382d69901c7138989fe1193b6391af6e4b072cac53c5d5fe"
     "93"),
    ("143963fc56d5df5fafb3ffcc98331deb", "2302f1649a7389e6d0ea2cf196fc4e6d",
     "32cb80ccde12336df020581595c67fee2ff94e2c1b9843c7682873409f964a",
     "41940e3322b1ddf410578539938faf70faa9d04d5c4023cd9834ab3756ae32",
     "a0e70a60e7b88adb94d393f2418616dd4ce8e7e062488940c0499b6332ec8bdb"
     "dca6ea2cc27ff504cbe547bba7d19d"),
    ("505d9d9b6650887b308eb15e9258e0f1", "5f272b03aaef320250c4de8290211173",
     "6ef0ba6bee8edc8971fb0aa68fea41f45abb59b02038c5e02956521979f5e937",
     "7eb948d3322d8610913137cb8db37276246bdcd161e0a5e75a618a0f300dd1ec",
     "62dc2d682d71bb3313dfc046f66194a760d3d4cad9be82f3f15ba0fa15badaea"
     "876847085ddd83b060f49320df348fea"),
    ("8d82d63b76cc3097b16863ef8c7ca3f7", "9c4b65a2ba6bdb1ed19e90138a45d379",
     "ab14f30afe0a85a5f2d5bc38890e04fb847d653425d847faeb8331f15454890d"
     "9d",
     "bade827242a92f2c120be95c87d7357c4f2ee855668027001b8f68e70a6c71c3"
     "2178559d9c657bcd0a3497ff4737b02a800d199833a97ae32e4cc6f38c884201"
     "bd",
     "84c521abe1ebbb6daa2aafeb3b3b69e72c47ef9db75336b7b6f5e5a8c99e02d7"
     "8388c2bd2ff910c0f5a16ed3976482a3fbda2cb194a15832e8d439fc9e26f9f1"
     "61e6ae07f2e0a74496283bee6bc616313f"),
    ("c9a710da8648d9b33242158085a165fe", "d8709f42cae6833a527942a5846a967f",
     "e8392daa0e852dc172af6ec98233c701af4070b82a78c914acb110ca2eb328e4"
     "acfa587fe573098c1d40878cd975c055a2da07d1c2a9d1bb094f7762882df268"
     "54",
     "f702bb115224d84893e69bee81fcf78279f0f3d96c20a91adcbc47c0e4cb1099"
     "2f",
     "8f2347fbf2ac23837709ac74efd256ae207b7bca458ec8c250bdc7441c5498d8"
     "1fd09a79aaf9e1b3b4985a9be44dbf4e39"),
    ("06cc4a7996c382cfb31cc7127fc52804", "1595d8e1da622c56d353f4367e8e5985",
     "245e67491e01d6ddf389205b7c578907",
     "3327f5b162a0806314c04d7f7b20ba89",
     "42c358fb29e24a56f1f5e151554b0a4546b58dacb634d88bde205977c17490"),
    ("42f08419a63f2bea34f679a379e9eb0a", "51b91280eaded571542da6c878b21b8c",
     "6183a0e82e7d7ff87463d2ec767c4c0d",
     "704c2f50721c297f959aff1075457d8f",
     "b2fbf697697ae9ece294a18ba02b60721d04dd6aef468f68e9e017457012"),
    ("7f15bdb8b6bad306b5d12b35730ead10", "8ede4c20fa597e8dd507585972d7de92",
     "9da7da883ef82814f53e857d70a00f13",
     "ac7069ef8297d29b1574b1a26f693f95",
     "47da54425172c48bf5570f2f490e113b7893ecfcf4ffe12d"),
]

# The default conformance run checks four of them (each vector costs a
# request per configuration, world and bridge, and AEGIS is sequential per
# block): a partial block of text, partial blocks of AD and text, the
# longest text with an AD past two blocks, and the shortest tag.
# tests/test_aead/test_aegis128.py runs all 24 in both worlds, and
# --testmgr runs a kernel tree's own.
AEGIS128_SAMPLE = (2, 14, 19, 23)

TESTMGR_AEAD: list[tuple[str, str, str, str, str, str, str]] = [
    ("aegis128", *AEGIS128[i], f"{_SRC_AEGIS} #{i + 1}") for i in AEGIS128_SAMPLE
]
