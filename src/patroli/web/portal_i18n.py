"""User-facing strings of the public portal (Bahasa Indonesia first, English second).

Kept apart from ``i18n.MESSAGES`` so the portal's wording can change without touching the
shared catalogue; ``register()`` adds them to it (idempotent; ``patroli.web.portal``
calls it on import). Keys start with ``portal.``.
"""

from __future__ import annotations

from patroli.web.i18n import MESSAGES

__all__ = ["PORTAL_MESSAGES", "register"]

PORTAL_MESSAGES: dict[str, dict[str, str]] = {
    # navigation and landing
    "portal.nav.check": {"id": "Cek Lowongan", "en": "Check a job ad"},
    "portal.nav.report": {"id": "Lapor", "en": "Report"},
    "portal.nav.status": {"id": "Status laporan", "en": "Report status"},
    "portal.nav.login": {"id": "Masuk (analis)", "en": "Sign in (analysts)"},
    "portal.home.title": {"id": "Kerja ke luar negeri? Cek dulu.",
                          "en": "Working abroad? Check first."},
    "portal.home.lead": {
        "id": "Banyak lowongan kerja luar negeri di media sosial adalah penipuan atau "
              "perekrutan ilegal. Cek iklan, nama perusahaan, nomor atau tautan sebelum "
              "mendaftar, dan laporkan perekrut yang mencurigakan.",
        "en": "Many overseas job ads on social media are scams or illegal recruitment. "
              "Check the ad, the company name, the number or the link before applying, "
              "and report suspicious recruiters."},
    "portal.home.check_desc": {"id": "Tempel teks iklan, nama perusahaan, nomor HP atau tautan.",
                               "en": "Paste the ad's text, a company name, a phone number or a link."},
    "portal.home.report_desc": {"id": "Laporkan akun, nomor, tautan atau pesan perekrut. "
                                      "Tanpa akun; data Anda dilindungi.",
                                "en": "Report a recruiter's account, number, link or message. "
                                      "No account needed; your data is protected."},
    "portal.home.status_desc": {"id": "Punya kode tanda terima? Lihat status laporan Anda.",
                                "en": "Have a receipt code? See your report's status."},
    "portal.home.hotline": {"id": "Layanan pengaduan 24 jam KP2MI: 0800-1000 (bebas pulsa).",
                            "en": "KP2MI 24-hour complaint line: 0800-1000 (toll-free)."},
    # check form
    "portal.check.title": {"id": "Cek Lowongan", "en": "Check a job ad"},
    "portal.check.label": {"id": "Teks iklan, nama perusahaan, nomor HP atau tautan",
                           "en": "Ad text, company name, phone number or link"},
    "portal.check.hint": {"id": "Paling banyak {limit} karakter. Teks yang Anda cek tidak disimpan.",
                          "en": "At most {limit} characters. What you check is not stored."},
    "portal.check.submit": {"id": "Cek sekarang", "en": "Check now"},
    "portal.check.empty": {"id": "Tulis atau tempel sesuatu untuk dicek.",
                           "en": "Type or paste something to check."},
    "portal.check.too_long": {"id": "Teks terlalu panjang: paling banyak {limit} karakter.",
                              "en": "The text is too long: at most {limit} characters."},
    "portal.check.again": {"id": "Cek yang lain", "en": "Check something else"},
    "portal.check.checked_text": {"id": "Teks yang dicek (tanda bahaya ditandai)",
                                  "en": "Checked text (red flags marked)"},
    # verdicts
    "portal.verdict.title": {"id": "Hasil pengecekan", "en": "Result"},
    "portal.badge.danger": {"id": "Bahaya", "en": "Danger"},
    "portal.badge.warn": {"id": "Waspada", "en": "Caution"},
    "portal.badge.ok": {"id": "Aman menurut data", "en": "No red flags found"},
    "portal.badge.info": {"id": "Informasi", "en": "Information"},
    "portal.badge.unknown": {"id": "Tidak diketahui", "en": "Unknown"},
    "portal.ad.high": {"id": "Hati-hati: iklan ini menunjukkan tanda perekrutan ilegal.",
                       "en": "Be careful: this ad shows signs of illegal recruitment."},
    "portal.ad.medium": {"id": "Waspada: iklan ini punya beberapa tanda yang mencurigakan.",
                         "en": "Caution: this ad has several suspicious signs."},
    "portal.ad.low": {"id": "Tidak ditemukan tanda kuat perekrutan ilegal. Tetap pastikan "
                            "perusahaannya terdaftar dan lowongannya punya izin (SIP).",
                      "en": "No strong sign of illegal recruitment found. Still make sure the "
                            "company is registered and the job has a permit (SIP)."},
    "portal.ad.awareness": {"id": "Teks ini tampaknya berita, peringatan atau cerita, bukan "
                                  "iklan lowongan kerja.",
                            "en": "This text looks like news, a warning or a story, not a job ad."},
    "portal.ad.score": {"id": "Skor risiko {score} dari 100 (tingkat {level}).",
                        "en": "Risk score {score} out of 100 ({level} level)."},
    "portal.why.title": {"id": "Mengapa?", "en": "Why?"},
    "portal.why.none": {"id": "Tidak ada tanda bahaya yang dikenali.",
                        "en": "No known red flag was found."},
    "portal.verify.title": {"id": "Izin perusahaan", "en": "Company licence"},
    "portal.verify.none": {"id": "Iklan tidak menyebut perusahaan penempatan (P3MI). Perekrut "
                                 "resmi selalu menyebut nama perusahaan dan nomor izinnya.",
                           "en": "The ad names no placement company (P3MI). Lawful recruiters "
                                 "always give the company's name and licence number."},
    # agency
    "portal.agency.title": {"id": "Perusahaan penempatan (P3MI)", "en": "Placement company (P3MI)"},
    "portal.agency.verified": {"id": "Terdaftar: {name} adalah P3MI berizin.",
                               "en": "Registered: {name} is a licensed P3MI."},
    "portal.agency.verified_note": {
        "id": "Nama perusahaan resmi bisa dicatut penipu. Hubungi perusahaan lewat alamat, "
              "telepon atau situs resminya di bawah ini, bukan lewat nomor di iklan.",
        "en": "Scammers can borrow a licensed company's name. Contact the company through "
              "its official address, phone or website below, not the number in the ad."},
    "portal.agency.lookalike": {"id": "Bahaya: \"{written}\" mirip nama P3MI terdaftar {name}, "
                                      "tetapi bukan perusahaan yang sama.",
                                "en": "Danger: \"{written}\" looks like the registered P3MI "
                                      "{name}, but it is not the same company."},
    "portal.agency.bad_status": {"id": "Bahaya: {name} tidak boleh merekrut ({status}).",
                                 "en": "Danger: {name} may not recruit ({status})."},
    "portal.agency.not_found": {"id": "\"{written}\" tidak ditemukan di registri P3MI. "
                                      "Perusahaan yang tidak terdaftar tidak boleh merekrut PMI.",
                                "en": "\"{written}\" is not in the P3MI registry. A company that "
                                      "is not registered may not recruit migrant workers."},
    "portal.agency.status.active": {"id": "aktif", "en": "active"},
    "portal.agency.status.suspended": {"id": "izin dibekukan", "en": "licence suspended"},
    "portal.agency.status.revoked": {"id": "izin dicabut", "en": "licence revoked"},
    "portal.agency.status.expired": {"id": "izin kedaluwarsa", "en": "licence expired"},
    "portal.agency.licence": {"id": "Nomor izin (SIP3MI)", "en": "Licence number (SIP3MI)"},
    "portal.agency.valid_until": {"id": "Berlaku s.d.", "en": "Valid until"},
    "portal.agency.status": {"id": "Status", "en": "Status"},
    "portal.agency.address": {"id": "Alamat", "en": "Address"},
    "portal.agency.phone": {"id": "Telepon resmi", "en": "Official phone"},
    "portal.agency.website": {"id": "Situs resmi", "en": "Official website"},
    "portal.agency.permits": {"id": "Izin perekrutan (SIP) yang berlaku",
                              "en": "Valid recruitment permits (SIP)"},
    "portal.agency.no_permits": {"id": "Tidak ada izin perekrutan yang berlaku di data kami.",
                                 "en": "No valid recruitment permit in our data."},
    # contacts
    "portal.contact.title": {"id": "Nomor / tautan", "en": "Number / link"},
    "portal.contact.none": {"id": "Nomor HP atau tautan tidak dikenali. Tulis nomor lengkap "
                                  "(mis. 0812-3456-7890) atau tautan (mis. wa.me/62812...).",
                            "en": "No phone number or link recognised. Write the full number "
                                  "(e.g. 0812-3456-7890) or the link (e.g. wa.me/62812...)."},
    "portal.contact.watch": {"id": "Bahaya: {value} ada di daftar pantau karena terkait "
                                   "penipuan atau perekrutan ilegal.",
                             "en": "Danger: {value} is on the watchlist, linked to scams or "
                                   "illegal recruitment."},
    "portal.contact.official": {"id": "{value} adalah kontak resmi ({why}).",
                                "en": "{value} is an official contact ({why})."},
    "portal.contact.why.hotline": {"id": "layanan pengaduan resmi", "en": "official hotline"},
    "portal.contact.why.gov": {"id": "situs pemerintah", "en": "government website"},
    "portal.contact.why.agency": {"id": "kontak P3MI terdaftar {agency}",
                                  "en": "contact of the registered P3MI {agency}"},
    "portal.contact.why.list": {"id": "daftar kontak resmi", "en": "official contact list"},
    "portal.contact.seen": {"id": "{value} muncul di {n} unggahan yang sedang dipantau petugas.",
                            "en": "{value} appears in {n} posts under watch by our analysts."},
    "portal.contact.reported": {"id": "{value} sudah dilaporkan {n} kali oleh warga.",
                                "en": "{value} has been reported {n} times by the public."},
    "portal.contact.unknown": {"id": "Belum ada catatan tentang {value}. Itu belum berarti aman.",
                               "en": "We have no record of {value}. That does not mean it is safe."},
    "portal.contact.shortlink": {"id": "Tautan pendek menyembunyikan alamat tujuan; sering "
                                       "dipakai perekrut ilegal.",
                                 "en": "Short links hide where they lead; illegal recruiters "
                                       "often use them."},
    # next steps
    "portal.next.title": {"id": "Apa yang harus dilakukan?", "en": "What to do next?"},
    "portal.next.check": {"id": "Cek nama perusahaan dan izin perekrutannya (SIP) di LTSA atau "
                                "kantor BP3MI terdekat, atau di data resmi KP2MI (SISKOP2MI).",
                          "en": "Check the company's name and its recruitment permit (SIP) at "
                                "the one-stop service (LTSA), the nearest BP3MI office, or "
                                "KP2MI's official data (SISKOP2MI)."},
    "portal.next.pay": {"id": "Jangan pernah membayar ke rekening pribadi atau menyerahkan "
                              "paspor/KTP kepada calo.",
                        "en": "Never pay into a personal bank account or hand your passport or "
                              "ID card to a broker."},
    "portal.next.visa": {"id": "Jangan berangkat dengan visa turis, kunjungan atau ziarah "
                               "untuk bekerja.",
                         "en": "Never travel on a tourist, visit or pilgrimage visa to work."},
    "portal.next.hotline": {"id": "Ragu? Hubungi layanan pengaduan KP2MI 0800-1000 (24 jam).",
                            "en": "In doubt? Call the KP2MI complaint line 0800-1000 (24 hours)."},
    "portal.next.report": {"id": "Laporkan iklan ini", "en": "Report this ad"},
    # report form
    "portal.report.title": {"id": "Lapor perekrut mencurigakan", "en": "Report a suspicious recruiter"},
    "portal.report.lead": {"id": "Tanpa akun. Petugas akan meninjau laporan Anda. Isian yang "
                                 "bertanda * wajib diisi.",
                           "en": "No account needed. Analysts will review your report. Fields "
                                 "marked * are required."},
    "portal.report.kind": {"id": "Apa yang dilaporkan? *", "en": "What are you reporting? *"},
    "portal.report.kind.url": {"id": "Tautan (link)", "en": "Link (URL)"},
    "portal.report.kind.account": {"id": "Akun media sosial", "en": "Social-media account"},
    "portal.report.kind.phone": {"id": "Nomor HP / WhatsApp", "en": "Phone / WhatsApp number"},
    "portal.report.kind.text": {"id": "Teks iklan atau pesan", "en": "Ad or message text"},
    "portal.report.content": {"id": "Isi laporan (tautan, akun, nomor atau teks) *",
                              "en": "What you report (link, account, number or text) *"},
    "portal.report.description": {"id": "Keterangan (opsional)", "en": "Description (optional)"},
    "portal.report.description_hint": {"id": "Mis. bagaimana Anda dihubungi, berapa yang diminta.",
                                       "en": "E.g. how you were contacted, how much was asked."},
    "portal.report.platform": {"id": "Platform (opsional)", "en": "Platform (optional)"},
    "portal.report.platform.none": {"id": "— pilih —", "en": "— choose —"},
    "portal.report.platform.other": {"id": "Lainnya", "en": "Other"},
    "portal.report.screenshot": {"id": "Tangkapan layar (opsional)", "en": "Screenshot (optional)"},
    "portal.report.screenshot_hint": {
        "id": "Gambar JPEG, PNG, WebP atau GIF, paling besar 2 MB dan {px}×{px} piksel. "
              "Data lokasi dan metadata dihapus.",
        "en": "A JPEG, PNG, WebP or GIF image, at most 2 MB and {px}×{px} pixels. Location "
              "data and metadata are removed."},
    "portal.report.contact": {"id": "Kontak Anda (opsional)", "en": "Your contact (optional)"},
    "portal.report.contact_hint": {
        "id": "Hanya jika Anda bersedia dihubungi petugas. Disimpan terenkripsi dan hanya "
              "dapat dibuka petugas yang berwenang (UU PDP No. 27/2022).",
        "en": "Only if you agree to be contacted by our staff. Stored encrypted, readable "
              "only by authorised staff (Personal Data Protection Law 27/2022)."},
    "portal.report.contact_name": {"id": "Nama", "en": "Name"},
    "portal.report.contact_phone": {"id": "Nomor HP", "en": "Phone number"},
    "portal.report.contact_email": {"id": "Email", "en": "E-mail"},
    "portal.report.submit": {"id": "Kirim laporan", "en": "Send report"},
    "portal.report.err.kind": {"id": "Pilih jenis laporan.", "en": "Choose what you report."},
    "portal.report.err.content": {"id": "Isi laporan wajib diisi.", "en": "Say what you report."},
    "portal.report.err.too_long": {"id": "{field} terlalu panjang (paling banyak {limit} karakter).",
                                   "en": "{field} is too long (at most {limit} characters)."},
    "portal.report.err.email": {"id": "Alamat email tidak sah.", "en": "Invalid e-mail address."},
    "portal.report.err.image_type": {"id": "Berkas bukan gambar JPEG, PNG, WebP atau GIF.",
                                     "en": "The file is not a JPEG, PNG, WebP or GIF image."},
    "portal.report.err.image_size": {"id": "Gambar terlalu besar (paling besar 2 MB).",
                                     "en": "The image is too large (2 MB at most)."},
    "portal.report.err.image_dims": {"id": "Gambar terlalu besar (paling besar {px}×{px} piksel).",
                                     "en": "The image is too large ({px}×{px} pixels at most)."},
    "portal.report.received": {"id": "Terima kasih, laporan Anda sudah diterima.",
                               "en": "Thank you, your report has been received."},
    "portal.report.keep_code": {"id": "Simpan kode tanda terima ini untuk melihat status "
                                      "laporan. Kode ini tidak dapat dipulihkan.",
                                "en": "Keep this receipt code to follow your report's status. "
                                      "It cannot be recovered."},
    # status
    "portal.status.title": {"id": "Status laporan", "en": "Report status"},
    "portal.status.code": {"id": "Kode tanda terima", "en": "Receipt code"},
    "portal.status.submit": {"id": "Lihat status", "en": "See status"},
    "portal.status.not_found": {"id": "Kode tidak ditemukan. Periksa lagi kode tanda terima Anda.",
                                "en": "Code not found. Check your receipt code again."},
    "portal.status.current": {"id": "Status", "en": "Status"},
    "portal.status.created": {"id": "Diterima pada", "en": "Received on"},
    "portal.status.updated": {"id": "Terakhir diperbarui", "en": "Last updated"},
    "portal.status.link": {"id": "Tautan status", "en": "Status link"},
    "portal.status.privacy": {"id": "Halaman ini hanya menampilkan status, tanpa isi laporan "
                                    "atau data pribadi.",
                              "en": "This page shows only the status, never the report's "
                                    "content or personal data."},
    "portal.status.received": {"id": "diterima", "en": "received"},
    "portal.status.in_review": {"id": "sedang ditinjau", "en": "under review"},
    "portal.status.actioned": {"id": "ditindaklanjuti", "en": "acted upon"},
    "portal.status.closed": {"id": "selesai", "en": "closed"},
    "portal.status.step.received": {"id": "Laporan masuk ke antrean petugas.",
                                    "en": "The report is in the analysts' queue."},
    "portal.status.step.in_review": {"id": "Petugas sedang memeriksa laporan.",
                                     "en": "An analyst is examining the report."},
    "portal.status.step.actioned": {"id": "Laporan ditindaklanjuti (mis. permintaan penurunan "
                                          "konten atau penanganan kasus).",
                                    "en": "The report was acted upon (e.g. a takedown request "
                                          "or a case)."},
    "portal.status.step.closed": {"id": "Penanganan laporan selesai.",
                                  "en": "Handling of the report is complete."},
}


def register() -> None:
    """Add ``PORTAL_MESSAGES`` to the shared catalogue (existing keys are kept)."""
    for key, entry in PORTAL_MESSAGES.items():
        MESSAGES.setdefault(key, entry)


register()
