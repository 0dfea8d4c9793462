//! Recognising audio by its first bytes, and a tiny valid WAV generator (for the sandbox,
//! tests and benchmarks).

/// The extension a recording's first bytes point to, if they look like audio.
pub fn sniff_extension(head: &[u8]) -> Option<&'static str> {
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        Some("wav")
    } else if head.starts_with(b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        Some("mp3")
    } else if head.starts_with(b"#!AMR") {
        Some("amr")
    } else if head.starts_with(b"OggS") {
        Some("ogg")
    } else if head.starts_with(b"fLaC") {
        Some("flac")
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        Some("m4a")
    } else if head.starts_with(b"#!SILK") || head.starts_with(b"\x02#!SILK") {
        Some("silk")
    } else {
        None
    }
}

/// Whether a body that should be audio is instead a text answer (JSON / XML / HTML):
/// vendors answer an expired or forbidden link with `200 OK` and an error document.
pub fn looks_like_text_answer(head: &[u8]) -> bool {
    matches!(head.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'<' | b'['))
}

/// A valid mono 8 kHz 16-bit PCM WAV of `samples` samples: a tone whose pitch depends on
/// `seed`, so different recordings have different bytes (and checksums).
pub fn sine_wav(samples: u32, seed: u64) -> Vec<u8> {
    let rate: u32 = 8000;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let freq = 220.0 + (seed % 660) as f64;
    for i in 0..samples {
        let v = (2.0 * std::f64::consts::PI * freq * f64::from(i) / f64::from(rate)).sin();
        out.extend_from_slice(&((v * 8000.0) as i16).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_wav_is_recognised_and_json_is_not_audio() {
        let w = sine_wav(100, 3);
        assert_eq!(w.len(), 244);
        assert_eq!(sniff_extension(&w), Some("wav"));
        assert_ne!(sine_wav(100, 3), sine_wav(100, 4));
        assert!(looks_like_text_answer(b" {\"code\":403}"));
        assert!(!looks_like_text_answer(&w));
        assert_eq!(sniff_extension(b"{\"code\":1}"), None);
    }
}
