//! Mode tables of real cameras, as their drivers list them (YUYV and MJPG only), one line per
//! format and size: `FORMAT WxH: rates`. Where each comes from is written above it.

/// Logitech HD Pro Webcam C920 (USB 2): `v4l2-ctl --list-formats-ext --all`, kernel 6.5.7, in
/// github.com/petminion/petminion `docs/hardware.md` (commit c878151). H264 modes left out.
pub const C920: &str = "
YUYV 640x480: 30, 24, 20, 15, 10, 7.5, 5
YUYV 160x90: 30, 24, 20, 15, 10, 7.5, 5
YUYV 160x120: 30, 24, 20, 15, 10, 7.5, 5
YUYV 176x144: 30, 24, 20, 15, 10, 7.5, 5
YUYV 320x180: 30, 24, 20, 15, 10, 7.5, 5
YUYV 320x240: 30, 24, 20, 15, 10, 7.5, 5
YUYV 352x288: 30, 24, 20, 15, 10, 7.5, 5
YUYV 432x240: 30, 24, 20, 15, 10, 7.5, 5
YUYV 640x360: 30, 24, 20, 15, 10, 7.5, 5
YUYV 800x448: 30, 24, 20, 15, 10, 7.5, 5
YUYV 800x600: 24, 20, 15, 10, 7.5, 5
YUYV 864x480: 24, 20, 15, 10, 7.5, 5
YUYV 960x720: 15, 10, 7.5, 5
YUYV 1024x576: 15, 10, 7.5, 5
YUYV 1280x720: 10, 7.5, 5
YUYV 1600x896: 7.5, 5
YUYV 1920x1080: 5
YUYV 2304x1296: 2
YUYV 2304x1536: 2
MJPG 640x480: 30, 24, 20, 15, 10, 7.5, 5
MJPG 160x90: 30, 24, 20, 15, 10, 7.5, 5
MJPG 160x120: 30, 24, 20, 15, 10, 7.5, 5
MJPG 176x144: 30, 24, 20, 15, 10, 7.5, 5
MJPG 320x180: 30, 24, 20, 15, 10, 7.5, 5
MJPG 320x240: 30, 24, 20, 15, 10, 7.5, 5
MJPG 352x288: 30, 24, 20, 15, 10, 7.5, 5
MJPG 432x240: 30, 24, 20, 15, 10, 7.5, 5
MJPG 640x360: 30, 24, 20, 15, 10, 7.5, 5
MJPG 800x448: 30, 24, 20, 15, 10, 7.5, 5
MJPG 800x600: 30, 24, 20, 15, 10, 7.5, 5
MJPG 864x480: 30, 24, 20, 15, 10, 7.5, 5
MJPG 960x720: 30, 24, 20, 15, 10, 7.5, 5
MJPG 1024x576: 30, 24, 20, 15, 10, 7.5, 5
MJPG 1280x720: 30, 24, 20, 15, 10, 7.5, 5
MJPG 1600x896: 30, 24, 20, 15, 10, 7.5, 5
MJPG 1920x1080: 30, 24, 20, 15, 10, 7.5, 5
";

/// Logitech Webcam C310 (046d:081b): `v4l2-ctl --list-formats-ext` on a Raspberry Pi 3, in
/// github.com/ThreeAmericano/CameraStreaming-Part `README.md` (commit 24aae7d).
pub const C310: &str = "
YUYV 640x480: 30, 25, 20, 15, 10, 5
YUYV 160x120: 30, 25, 20, 15, 10, 5
YUYV 176x144: 30, 25, 20, 15, 10, 5
YUYV 320x176: 30, 25, 20, 15, 10, 5
YUYV 320x240: 30, 25, 20, 15, 10, 5
YUYV 352x288: 30, 25, 20, 15, 10, 5
YUYV 432x240: 30, 25, 20, 15, 10, 5
YUYV 544x288: 30, 25, 20, 15, 10, 5
YUYV 640x360: 30, 25, 20, 15, 10, 5
YUYV 752x416: 25, 20, 15, 10, 5
YUYV 800x448: 20, 15, 10, 5
YUYV 800x600: 20, 15, 10, 5
YUYV 864x480: 20, 15, 10, 5
YUYV 960x544: 15, 10, 5
YUYV 960x720: 10, 5
YUYV 1024x576: 10, 5
YUYV 1184x656: 10, 5
YUYV 1280x720: 7.5, 5
YUYV 1280x960: 7.5, 5
MJPG 640x480: 30, 25, 20, 15, 10, 5
MJPG 160x120: 30, 25, 20, 15, 10, 5
MJPG 176x144: 30, 25, 20, 15, 10, 5
MJPG 320x176: 30, 25, 20, 15, 10, 5
MJPG 320x240: 30, 25, 20, 15, 10, 5
MJPG 352x288: 30, 25, 20, 15, 10, 5
MJPG 432x240: 30, 25, 20, 15, 10, 5
MJPG 544x288: 30, 25, 20, 15, 10, 5
MJPG 640x360: 30, 25, 20, 15, 10, 5
MJPG 752x416: 30, 25, 20, 15, 10, 5
MJPG 800x448: 30, 25, 20, 15, 10, 5
MJPG 800x600: 30, 25, 20, 15, 10, 5
MJPG 864x480: 30, 25, 20, 15, 10, 5
MJPG 960x544: 30, 25, 20, 15, 10, 5
MJPG 960x720: 30, 25, 20, 15, 10, 5
MJPG 1024x576: 30, 25, 20, 15, 10, 5
MJPG 1184x656: 30, 25, 20, 15, 10, 5
MJPG 1280x720: 30, 25, 20, 15, 10, 5
MJPG 1280x960: 30, 25, 20, 15, 10, 5
";

/// Logitech C270: `uvcdynctrl -f` (intervals 2/15 = 7.5 fps), in github.com/ferstar/mjpg-streamer-diy
/// `README.md` (commit 5d151e8). The same table as the C310.
pub const C270: &str = "
YUYV 640x480: 30, 25, 20, 15, 10, 5
YUYV 160x120: 30, 25, 20, 15, 10, 5
YUYV 176x144: 30, 25, 20, 15, 10, 5
YUYV 320x176: 30, 25, 20, 15, 10, 5
YUYV 320x240: 30, 25, 20, 15, 10, 5
YUYV 352x288: 30, 25, 20, 15, 10, 5
YUYV 432x240: 30, 25, 20, 15, 10, 5
YUYV 544x288: 30, 25, 20, 15, 10, 5
YUYV 640x360: 30, 25, 20, 15, 10, 5
YUYV 752x416: 25, 20, 15, 10, 5
YUYV 800x448: 20, 15, 10, 5
YUYV 800x600: 20, 15, 10, 5
YUYV 864x480: 20, 15, 10, 5
YUYV 960x544: 15, 10, 5
YUYV 960x720: 10, 5
YUYV 1024x576: 10, 5
YUYV 1184x656: 10, 5
YUYV 1280x720: 7.5, 5
YUYV 1280x960: 7.5, 5
MJPG 640x480: 30, 25, 20, 15, 10, 5
MJPG 160x120: 30, 25, 20, 15, 10, 5
MJPG 176x144: 30, 25, 20, 15, 10, 5
MJPG 320x176: 30, 25, 20, 15, 10, 5
MJPG 320x240: 30, 25, 20, 15, 10, 5
MJPG 352x288: 30, 25, 20, 15, 10, 5
MJPG 432x240: 30, 25, 20, 15, 10, 5
MJPG 544x288: 30, 25, 20, 15, 10, 5
MJPG 640x360: 30, 25, 20, 15, 10, 5
MJPG 752x416: 30, 25, 20, 15, 10, 5
MJPG 800x448: 30, 25, 20, 15, 10, 5
MJPG 800x600: 30, 25, 20, 15, 10, 5
MJPG 864x480: 30, 25, 20, 15, 10, 5
MJPG 960x544: 30, 25, 20, 15, 10, 5
MJPG 960x720: 30, 25, 20, 15, 10, 5
MJPG 1024x576: 30, 25, 20, 15, 10, 5
MJPG 1184x656: 30, 25, 20, 15, 10, 5
MJPG 1280x720: 30, 25, 20, 15, 10, 5
MJPG 1280x960: 30, 25, 20, 15, 10, 5
";

/// A cheap 1080p "USB 2.0 Camera" (Microdia 0c45:6366): `v4l2-ctl --list-formats-ext` on a
/// Raspberry Pi, in github.com/maoxuli/raspi-webrtc `camera/usbcam/usbcam-arducam-1080p.md`
/// (commit d2f041b). Its firmware lists sizes and rates twice: copied as listed.
pub const MICRODIA_1080P: &str = "
MJPG 1920x1080: 30, 30
MJPG 1280x720: 30
MJPG 640x480: 30
MJPG 320x240: 30
MJPG 1920x1080: 30, 30
YUYV 640x480: 30, 30
YUYV 320x240: 30
YUYV 640x480: 30, 30
";

/// Genius WideCam F100: `v4l2-ctl --list-formats-ext`, kernel 3.19, in
/// github.com/Falcons-Robocup/code `packages/frontVision/README.md` (commit b3433a4).
pub const GENIUS_F100: &str = "
YUYV 640x480: 30
YUYV 160x120: 30
YUYV 176x144: 30
YUYV 320x240: 30
YUYV 352x288: 30
YUYV 800x600: 10
YUYV 1280x720: 8
YUYV 1920x1080: 5
MJPG 640x480: 30
MJPG 160x120: 30
MJPG 176x144: 30
MJPG 320x240: 30
MJPG 352x288: 30
MJPG 800x600: 30
MJPG 1280x720: 30
MJPG 1920x1080: 30
";

/// Logitech BRIO on USB 3: `v4l2-ctl --list-formats-ext` in a comment of
/// github.com/suburbanmarine/opaleye `libs/camera-pipes/pipeline/camera/v4l2_webcam_pipe.cpp`
/// (commit 01237f5). NV12 modes left out.
pub const BRIO: &str = "
YUYV 640x480: 30, 24, 20, 15, 10, 7.5, 5
YUYV 160x120: 30, 24, 20, 15, 10, 7.5, 5
YUYV 176x144: 30, 24, 20, 15, 10, 7.5, 5
YUYV 320x180: 30, 24, 20, 15, 10, 7.5, 5
YUYV 320x240: 30, 24, 20, 15, 10, 7.5, 5
YUYV 352x288: 30, 24, 20, 15, 10, 7.5, 5
YUYV 340x340: 30
YUYV 424x240: 30, 24, 20, 15, 10, 7.5, 5
YUYV 440x440: 30
YUYV 480x270: 30, 24, 20, 15, 10, 7.5, 5
YUYV 640x360: 30, 24, 20, 15, 10, 7.5, 5
YUYV 800x448: 30, 24, 20, 15, 10, 7.5, 5
YUYV 800x600: 30, 24, 20, 15, 10, 7.5, 5
YUYV 848x480: 30, 24, 20, 15, 10, 7.5, 5
YUYV 960x540: 30, 24, 20, 15, 10, 7.5, 5
YUYV 1024x576: 30, 24, 20, 15, 10, 7.5, 5
YUYV 1280x720: 30, 24, 20, 15, 10, 7.5, 5
YUYV 1600x896: 30, 24, 20, 15, 10, 7.5, 5
YUYV 1920x1080: 30, 24, 20, 15, 10, 7.5, 5
MJPG 640x480: 120, 90, 60, 30, 24, 20, 15, 10, 7.5, 5
MJPG 160x120: 30, 24, 20, 15, 10, 7.5, 5
MJPG 176x144: 30, 24, 20, 15, 10, 7.5, 5
MJPG 320x180: 30, 24, 20, 15, 10, 7.5, 5
MJPG 320x240: 30, 24, 20, 15, 10, 7.5, 5
MJPG 352x288: 30, 24, 20, 15, 10, 7.5, 5
MJPG 424x240: 30, 24, 20, 15, 10, 7.5, 5
MJPG 480x270: 30, 24, 20, 15, 10, 7.5, 5
MJPG 640x360: 30, 24, 20, 15, 10, 7.5, 5
MJPG 800x448: 30, 24, 20, 15, 10, 7.5, 5
MJPG 800x600: 30, 24, 20, 15, 10, 7.5, 5
MJPG 848x480: 30, 24, 20, 15, 10, 7.5, 5
MJPG 960x540: 30, 24, 20, 15, 10, 7.5, 5
MJPG 1024x576: 30, 24, 20, 15, 10, 7.5, 5
MJPG 1280x720: 90, 60, 30, 24, 20, 15, 10, 7.5, 5
MJPG 1600x896: 30, 24, 20, 15, 10, 7.5, 5
MJPG 1920x1080: 60, 30, 24, 20, 15, 10, 7.5, 5
MJPG 2560x1440: 30, 24, 20, 15, 10, 7.5, 5
MJPG 3840x2160: 30, 24, 20, 15, 10, 7.5, 5
MJPG 4096x2160: 30, 24, 20, 15, 10, 7.5, 5
";

/// A laptop's built-in camera: Dell Latitude 7280 "Integrated_Webcam_HD" (Realtek 0bda:5691),
/// from its UVC descriptors (`lsusb -v`, every dwFrameInterval 333333 = 30 fps) posted to the
/// linux-media list, thread "uvcvideo: IR camera lights only every second frame", Oct 2018
/// (Message-ID <3377b60e-afee-97bb-8714-36d4df048cef@suse.cz>). The RGB camera's node only.
pub const DELL_7280: &str = "
MJPG 640x480: 30
MJPG 1280x720: 30
MJPG 960x540: 30
MJPG 848x480: 30
MJPG 640x360: 30
YUYV 640x480: 30
YUYV 640x360: 30
YUYV 424x240: 30
YUYV 320x240: 30
YUYV 320x180: 30
YUYV 160x120: 30
";

/// ELP 4K "HD USB CAMERA" (32e4:0317): `v4l2-ctl --list-formats-ext` on a Raspberry Pi, in
/// github.com/maoxuli/raspi-webrtc `camera/usbcam/usbcam-elp-4k.md` (commit d2f041b).
pub const ELP_4K: &str = "
MJPG 3840x2160: 30, 25, 20, 15, 10, 5
MJPG 1920x1080: 30, 25, 20, 15, 10, 5
MJPG 2592x1944: 30, 25, 20, 15, 10, 5
MJPG 2048x1536: 30, 25, 20, 15, 10, 5
MJPG 1600x1200: 30, 25, 20, 15, 10, 5
MJPG 1280x960: 30, 25, 20, 15, 10, 5
MJPG 1280x720: 30, 25, 20, 15, 10, 5
MJPG 1024x768: 30, 25, 20, 15, 10, 5
MJPG 800x600: 30, 25, 20, 15, 10, 5
MJPG 640x480: 30, 25, 20, 15, 10, 5
MJPG 320x240: 30, 25, 20, 15, 10, 5
YUYV 3840x2160: 1
YUYV 1920x1080: 3
YUYV 2592x1944: 1
YUYV 2048x1536: 3
YUYV 1600x1200: 3
YUYV 1280x960: 5
YUYV 1280x720: 10, 5
YUYV 1024x768: 10, 5
YUYV 800x600: 20, 15, 10, 5
YUYV 640x480: 30, 25, 20, 15, 10, 5
YUYV 320x240: 30, 25, 20, 15, 10, 5
";

/// vivid, the kernel's virtual camera in the test VM (Debian 6.1.0-57 kernel, `n_devs=1
/// node_types=0x1`): `v4l2-ctl -d /dev/video0 --list-formats-ext`, YUYV only (vivid offers
/// no MJPEG), 2026-12-03. Its rates fall with the size the way a USB 2 webcam's do.
pub const VIVID: &str = "
YUYV 320x180: 1, 2, 4, 5, 10, 12.5, 15, 25, 30, 40, 50, 60
YUYV 640x360: 1, 2, 4, 5, 10, 12.5, 15, 25, 30, 40
YUYV 640x480: 1, 2, 4, 5, 10, 12.5, 15, 25
YUYV 1280x720: 1, 2, 4, 5, 10, 12.5
YUYV 1920x1080: 1, 2, 4, 5
YUYV 3840x2160: 1, 2
";
