"""Published vectors for the wide-block modes and their stream ciphers.

The kernel's testmgr vectors for hctr2, xctr, xchacha12 and adiantum were
generated with Google's reference implementations; these are a sample of
the vectors those implementations publish, so the default run checks our
cores against outputs we did not compute ourselves.

Conventions, mapped to the kernel's skcipher interface:

* hctr2(aes): the 32-byte IV is the HCTR2 tweak (the json ``tweak_hex``).
* xctr(aes): the 16-byte IV is the XCTR nonce (``nonce_hex``).
* xchacha12: the kernel's 32-byte IV is the 24-byte nonce followed by the
  64-bit little-endian block counter; the json gives 64 bytes of keystream
  at a block ``offset``, so plaintext is zeros and the counter is the offset.
* adiantum(xchacha{12,20},aes): the 32-byte IV is the tweak; the key is
  the 32-byte master key.

Each row is (cra_name, key, iv, ptext, ctext, source); ``source`` names the
file in the google/hctr2 or google/adiantum repository.
"""

from __future__ import annotations

import struct

_HCTR2 = "google/hctr2 test_vectors/ours/HCTR2/HCTR2_AES128.json"
_XCTR = "google/hctr2 test_vectors/ours/XCTR/XCTR_AES128.json"
_XCHACHA12 = "google/adiantum test_vectors/ours/XChaCha/XChaCha12_32.json"
_ADI12 = "google/adiantum test_vectors/ours/Adiantum/Adiantum_XChaCha12_32_AES256.json"
_ADI20 = "google/adiantum test_vectors/ours/Adiantum/Adiantum_XChaCha20_32_AES256.json"


def _xchacha_iv(nonce_hex: str, block: int) -> str:
    return nonce_hex + struct.pack("<Q", block).hex()


# (cra_name, key_hex, iv_hex, ptext_hex, ctext_hex, source)
PUBLISHED: list[tuple[str, str, str, str, str, str]] = [
    # HCTR2: 32-byte tweaks; 31 bytes (not a block multiple), 128 and 256 bytes.
    ("hctr2(aes)", "7a6a153962565130601c16d209aff90e",
     "d7d29ba5f608deac4fa98f546898bb45531fe1c951765ef455b232af69edee08",
     "9d1b5daba3a361c1d875e4f8f7f0742155080d572f229f6832f1e174b4ed1a",
     "4fad8fed97198014bcab969b27cd38573228fd2a43d7da25c62438e732e771", _HCTR2),
    ("hctr2(aes)", "e7d17748760bcd342a2de774ca119cae",
     "711c4962d95b505e6887bcf689ffed30e4e5bdb6104f9f6628065af42735cde5",
     "87038f06a86154da0145d401ef4a22cf78159fbd64bd2cb9401d72ae5363a5",
     "4ea10527b845e4a1bb30b4a6127463d617c9cc2f1864e0060aa0ff72107b22", _HCTR2),
    ("hctr2(aes)", "59653b1d435ec0aeb89d9bdd2203bfca",
     "ec95fa5acf5ed293a3b5e5bef3017b01d1ca6c0682f0bd67d96ca4dcb4380f74",
     "45df7587bc72ce55c9facbfc9f40822bc64f4f5b8b3b6d67a69362898c19f4e3"
     "08929cc9472c6ed0a3022bdb2cf28d46cdb09d26634c406b7943e5ce42a8ec3b"
     "5bd0eaa4e6db66557a76ecab7d2a2bbda9ab22641aa1ae84867967e9b250be12"
     "2fb214f0db71d8a7418a88a06a6e9d2afa11374032094c47410731853da8f764",
     "2d4b9f93ca5a482601cc54e4315012f049ff594268bd878f9e6296cdb92457a4"
     "0b7bf52e0ea86507ab05d5cae79c6c345d4234a462e975483d9e8ffa42e97508"
     "4e54912bbd110f8ef082f524f1c4fcae42547fce15a8b233c086b62be844ce1f"
     "685766946eadebf330f811bd6000c6d54c81f1202b4a5b99793bc95c7423e65d", _HCTR2),
    ("hctr2(aes)", "bd3dacf1f3b5b1030335b248e28245c6",
     "e5e6e2d3988c9a8bfb0ca4afa5a26f0cb15467b44331838dd08524a92456ab12",
     "4cb777b9eb4de5231906cb51ade526d3b038a804c049d3ede03c8be4e12116e2"
     "207db9da8aba32552b6dc2dc8c9cacde14676525a4806e0b415aa874fcf30c68"
     "a072a97ac999b7900e46b503914d76e6da34e77e8667bcfc7018340d8c84e12e"
     "11ee74f6430b141bd4ea1375613412519a476a897ba4fc3a99ec3efc91ec44fe"
     "0ae0bc80e62b336691bedb38091f723bcfdfa7a31df727e307ca7a859549d502"
     "91412035f9652ced586a7baa5a50b5a9a69ff6b9dd7f0c772b1fb7b60fe267d8"
     "21fce8f8c9f2ae94e0a1797175474b6362cd3bc6a54a7aa74ce720ec0efbd93b"
     "9c4e4adc621dad91b0da6e8612bbf8733ef66540d9c8d2cfe741af2c3ac986",
     "1dee765eab470c22d7e09ccaf1a94f8356148c92a2b44d0e8056eadc63870116"
     "cdb6d25c337f4c5a62efa8306d13f9416ae9af334b1d8b6280f67f4eb863d6fa"
     "8291960d5d228bbf722bdc8eaaf1b56fc74164df82e05591a0ab50c1b5c59765"
     "45f0f250850ec327d5c1b956f5ffefb2275e2784e4881fbe6a5f72865ef9c94f"
     "e2492b327af4c92a19762c30ea5e2be8cf22884436ba624fe69d35c63feafc5a"
     "42a151aefd645da0fe2aad2577f71206203912046fb25ba53975b5362096f0d5"
     "d3e4034c2da344fb3b8b6cf424f9469daeae173ba756b4d801f0516c7904eb54"
     "f45163dbf82b268a8b8bd6324ed4f4c600edbc4d272f2580cfe624f576db0b", _HCTR2),
    # XCTR: 1, 16, 31 and 255 bytes.
    ("xctr(aes)", "9c8dc4bd7136dc827ca1caa3235adba4", "8de7a56a958642debaea6e690333860f",
     "bd", "b9", _XCTR),
    ("xctr(aes)", "bc1b120c3f18cc1f5a1dab81a8687c63", "22c1dd250b18cba54ada150773d98810",
     "246e64c615269cda2a4b5712ff7cd6b5", "d6478d5892b284f9b7ee0d98a1394d8f", _XCTR),
    ("xctr(aes)", "4403bf4c30f0a7d6bd54bb668ea60e8a", "e6f726df8c3caa88cec1bd433b0962ad",
     "3ce346b98f9d3f8deff253ab24e22908f87e1da66d867d60976393297194b4",
     "d4a3c6b8c16f701a520ced4caf5156234845071034c5ba71e5f81ed8cba6e7", _XCTR),
    ("xctr(aes)", "57562dd590ef2dca37f82f0be54f74b2", "7b8baeda0bfb31489fd0ecaf2d480d34",
     "51b0dcbb34d0cd32b2239bdf416d09c9ece9d81c5f9c22264daa3fd4a4480372"
     "295627f8fca571da9ccd25b769c0dedbfd01eb468f88c8429f1ee225ade9341b"
     "fd9aaec78877f563986cc26c3791bb2cee42ef98c9a465162eefad8a6fcb3d5c"
     "ca9f410f5e7f7aa0729d0ade140cddcff3a32fa34f7c8ea5f6fa4ce4edd92398"
     "d01ef4d3209e87afa7a1c56a7940e123c81f084f58bb677ecece488d9a9f3e8c"
     "4c7d0cfd2942a31dcb1dee14cc63e260950d0de7d7da0d60eab5c09945133210"
     "919a9f11d4ee1f946586bbacb445ac25982708ab611144a3d98ef25721a5d354"
     "a05df35ecbeb7cc14184906d8b2e91e51c40c2c04cda1625c05307b70054d8",
     "1cf76baaf4b5286d58734104bfa3e7547998c7345f715d85a376a1d7c1c5117b"
     "3d4c5aae62ac2b4ac542f89d7e1cc5799de584853e5029ea7ae164a3fe7272d3"
     "eae53748c5542eba37acc3f92c5a4911749062a7ce505ec42e3a5774e698caf0"
     "ecc608645043bcc8657035fcf2cbbeea2e0fdff02b0640714516cfb78a0829e6"
     "b3cd1961fe4b3a9f47cb3d936f4a3dabf3c828ad0e9eda25c95b7493c7a08525"
     "5ab56e92eaceb38163a6f3c253cc7b717fdb689710471d5b02ee40a1fbe986f0"
     "b2b0633e890a03094a2353ff90ea135c31bc63a3d8997f7777e9d83bd5d6d654"
     "8587aac5017e0b479dcb076fcc0fae8d00f9e8c72cc6b57a720b988ee87834", _XCTR),
    # XChaCha12: 64 keystream bytes at block offsets 0, 1 and 1023.
    ("xchacha12", "0100000000000000000000000000000000000000000000000000000000000000",
     _xchacha_iv("00" * 24, 0), "00" * 64,
     "b9815b9baea6918f3dce2daefad8bfc1c5c0c4f4baebafeb5723f1348004e064"
     "7d444d4b5ccac99d7ab6491e45f85673a6d0ca4b298f2bdd8e989b4bf39ff7a1", _XCHACHA12),
    ("xchacha12", "0000000004000000000000000000000000000000000000000000000000000000",
     _xchacha_iv("00" * 24, 1), "00" * 64,
     "0ca64c0bb33bd2836e7ef5ab40fb0abaa3ece39a532775b3752469b9f98d0b2f"
     "1a34c47a46a54518127034df1fde7f9bc85d7c3f8ce10ac22d3f546fd1d9491f", _XCHACHA12),
    ("xchacha12", "0100000000000000000000000000000000000000000000000000000000000000",
     _xchacha_iv("00" * 24, 1023), "00" * 64,
     "371bc6dbf8f52b8870f5a4c7b6df80b0556672b949ad098765ee90b236b01d7d"
     "25fe9d36b274f5ed429cf8fa6561795dc7fe1ec4a855e5830a1fa8e2ffb34cd9", _XCHACHA12),
    # Adiantum, XChaCha12: 32-byte tweaks; 16, 31 and 512 bytes.
    ("adiantum(xchacha12,aes)",
     "fa72e9298e5b1eb63b7c35037f77eb3f63b927b3725fca5c5e1590881ca4f3c2",
     "c94526b42196702f8a94fe92d514c3e03cc35757ddd664097849005688f577c2",
     "8836f471d33d4048e472239f4cc4cb76", "e96abbdeb0053d370b894f341122cc60", _ADI12),
    ("adiantum(xchacha12,aes)",
     "362b5797f85dcd995f1a5a441d920f27cc16d72b856399d3ba96a1dbd26068da",
     "ef5869b12c5e9a4724c1b169e112938f433d6d00db5ed8d9129afed9ff2daac4",
     "5ea8681985981223260accdb0a04b9df4db3487bb0e3c819435a4606942df2",
     "c7c6f1738fc4ff4a39be78be8d28c8894663e70c7d87e84ec9187bbe186050", _ADI12),
]

# The 512-byte Adiantum pair shares key, tweak and ciphertext between the
# XChaCha12 and XChaCha20 files (the generator fixes the ciphertext).
_ADI_KEY = "c252ff54e4f62b745d283763c57a477248c5fd258d2e00bb8763cbf9d381dba0"
_ADI_TWEAK = "ddc4d6edf07da919a0cc4300a828a78c3418a20fa84e1269fbea55130e1da97e"
_ADI_CT = (
    "18abac413556fa8001d896f21ed46bfaf3fa70b7b7941b30856c13d76702c65f"
    "659822b18475ae33c617fa87aef94c2d126b380a00fe2d975d0ea1c7028a388f"
    "f1ef09b0bc4233c13f468604f5bb743af11fa504e681309c82e5a5d4f52cb09f"
    "a5780f63774c1cc6a38a648ef5a431ed37d98666251f7a48e28aea0b907eca08"
    "31af9e0fc4031d8eaf52cbf4b76d0375e618b8318d09a91a44bc40d7cacb4a3d"
    "c8fb61fc3812be5ddc6d0b425fb51c4a816ebced0887692d3301206cf1e909fe"
    "63a7a456ae085f1594120a94f05754b968d1bc0c07953f59a7b2a51896ef818d"
    "8ff77fcde319cfb1bd2eeacc5f8c09d86c3790111d5a186e5b806f9dd29a8820"
    "f58b51e427319224af646f33fbecf938ded027f1b53ae5d784af4e7c54dab0c5"
    "82960078c8cd54c753b3638d8cdbf17d7671f8b4687cf8e6de713446413426fb"
    "022d829e14aced182ae3be888709855e9a5210677c3f224688a36dcda77331d4"
    "15c793dcbc13267bdc72c993bdd76093c31d8d562e52cbac93b75a1750c46121"
    "99f4625bbeeed85e09bf04ab6255c113a95c24c04064fa38de608781f3d4982b"
    "11ef126992e04c8bc465b82a4178d3b2b76bdc2034cec6b3a5f9970e766f1194"
    "571ff85673d0f180102cd6377b768b432667dfdc0770b2ef5e7b3d2c2f70b70d"
    "f4230238a854ff3fd2dc5d970b795dc14efefb13412db42ea757dc10825ddf81")
PUBLISHED += [
    ("adiantum(xchacha12,aes)", _ADI_KEY, _ADI_TWEAK,
     "d1aae70a2abd37068c14637802013f2e11d46337b595dbc1b1bff54393d3a4f3"
     "0092e130cff53f27b1a78c36fa6379f0477fdb52201c58a4cf4d5acdb58d0f2c"
     "fceee5868bea138039c0a43c3de5743b49db16216579ccf751e2233c4eb185fb"
     "1ab097c847d6dfc23efccee3798338b6909d08b1cd56ceca5d68317c5ac5e9f2"
     "3b96924e00947399b0025c0fcd0cd276317699c92528ac8a981f5d93659d5d96"
     "75ffcbdde733446d0e9708dd83dcbbcb19a8d5edb9f35701fcaf73108c3bfd05"
     "110b108e1ea19437bbefb0014e7633fe9618615aaad2e7b1db11c8851f396f4f"
     "8ebd36214d18ffcc859024de57e76948a4c530e88151bca3343b8c891d73963e"
     "c11214e492270a7b4927bd94c84d81da4243921e13368dc1ed80f2409b4ba3c2"
     "ad015f444ad5f3ec7b465566a95aa87e1b3c42c6c56d198171b9f85173e9d96d"
     "c788acce81dcdbe3b2ad7326337a27b60d782be470f0f8377fe68132cc07e959"
     "a613f671549fca5041fe68495d19b20c6b72b14be603353401dd42cc6e2a5621"
     "b2a9fb6eedcc2992b77671ee17dac11e33c9ea03a5f1585db0674a7e3d189a14"
     "5ab7e8e4e5f70d7f9d5c77fca1a062e6f55e767f5a6351feefb1ea9af1a7f99f"
     "1bd7a121abc76029655af50a047400a1d6116dee6ee708e3b8ccf82c5ba3e9b6"
     "bbb7269d6cd9ecde92a2036524241b604faa792da8ab201009a55f5545c0b3b6",
     _ADI_CT, _ADI12),
    ("adiantum(xchacha20,aes)", _ADI_KEY, _ADI_TWEAK,
     "4c2cbb382250ebe8bdc4e50059eb7b01521dd7745ce783f6a4b2e0daf05b14f0"
     "7c940f2116e9c5d9abda58e85f90160697d43277c7eaf539befa4325c20262a2"
     "94db9f5312954e459058ac1aa3bad50bff2d450edf0a38b7cabeba733efa3c18"
     "c896895ea77b2296269aee9323db72b0c09389587d45a0c9b9f784b42e16f051"
     "3e0a1cd9be62e6ad40494527a26ff6ee89a9ce3db8a620e61b883b2a8aab90ea"
     "5c60303c4cce0a4c5ae8f3de9365da062e24e10abeca3a75c6b8b1afe1d25cdf"
     "c9534d92801d85788c38aac4e9c6f6985a1b3f3f5cf4f94fd6df6fbe0b5d7f67"
     "bd4fd7553f8502d3061666f3d7c861f4e39f3f6b84bf43796135962d4424905a"
     "3c089f1347c248e4b5da15f80e7e1bedd619288bde3cd767018aa39652395a2a"
     "6811f63e8510aad1d333ea9640438f3aa867b532ba1bc6f6d8051eb5ad7d8d4f"
     "03094938597473d35bf3a606b6dfbbe76420d16a562e54b47e2bae12138014f0"
     "c8e9f99ca9280834da8a82323b9e6b4549d22c26c039d9bee74c28aecf9b6aa9"
     "0750d85f2f60d965f87fc54606c05a988e52da98da5d6c1cc401a603e7b39844"
     "12f2dc312667e8ae6bff3feca99bf46b34b3fddc14d097e45e96002bc42a7f88"
     "cba450e6eb71a2b5320447d10bcdfa320f35e7ca40427d566aeec5694bb02be7"
     "be63e353f8d504ef23272cd8eac01c91d3bad6112c7e2960e7441ce709c129af",
     _ADI_CT, _ADI20),
]
