//! v4l2loopback, the kernel module that makes the fake webcam: how to recognise its devices
//! and how to create one. The one place the compositor's sink, `--list-devices` and `doctor`
//! take both from.

/// The driver name v4l2loopback reports (`VIDIOC_QUERYCAP`).
pub const DRIVER: &str = "v4l2 loopback";

/// The command that creates the fake webcam viba's defaults expect (`/dev/video20`, labelled
/// `viba`, listed by Chromium only while something streams to it).
pub const MODPROBE: &str =
    "sudo modprobe v4l2loopback devices=1 video_nr=20 card_label=viba exclusive_caps=1";

/// The commands that make [`MODPROBE`]'s device come back at every boot.
pub const PERSIST: &str = "echo 'options v4l2loopback devices=1 video_nr=20 card_label=viba exclusive_caps=1' | sudo tee /etc/modprobe.d/viba.conf; echo v4l2loopback | sudo tee /etc/modules-load.d/viba.conf";

/// Whether a device whose driver reports `driver` belongs to v4l2loopback.
pub fn is_loopback(driver: &str) -> bool {
    driver == DRIVER
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_loopback_driver_is_a_loopback() {
        assert!(super::is_loopback("v4l2 loopback"));
        assert!(!super::is_loopback("vivid"));
        assert!(!super::is_loopback("uvcvideo"));
    }
}
