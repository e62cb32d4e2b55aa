"""Generate ``data/nlu.yml`` for the Rasa project: hand-written examples plus seeded templates x values.

Run from the repository root: ``.venv/bin/python -m nlu.rasa_project.generate``. The output is
deterministic (fixed seed) and committed. Examples are written the way callers speak and the way Vosk
transcribes them: lowercase, no punctuation, numbers as words, occasional missing diacritics.
Person names are annotated as ``name`` entities (a hint for the interpreter; values are normalised
separately by :mod:`nlu.normalize`).
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

from nlu.rasa_project.vocab import (
    random_cccd,
    random_dossier_tail,
    random_name,
    random_phone,
    spoken_digits,
    ward_mention,
)

SEED = 20261122
OUT = Path(__file__).resolve().parent / "data" / "nlu.yml"

# Problems per category code, as callers describe them (training phrasings only).
PROBLEMS: dict[str, list[str]] = {
    "TTDT": [
        "lấn chiếm vỉa hè bán hàng",
        "hàng rong bày ra tận lòng đường",
        "quán nước lấn chiếm hết vỉa hè",
        "ô tô đỗ trên vỉa hè không có chỗ đi bộ",
        "treo biển quảng cáo trái phép chắn lối đi",
    ],
    "XD": [
        "nhà bên cạnh xây dựng không có giấy phép",
        "công trình xây vượt tầng so với giấy phép",
        "xây nhà làm nứt tường nhà tôi",
        "công trường không che chắn gạch đá rơi xuống đường",
        "họ đang xây dựng trái phép trên đất nông nghiệp",
    ],
    "VSMT": [
        "rác thải không được thu gom mấy ngày nay",
        "có người đổ trộm rác ra bãi đất trống",
        "xác chuột chết bốc mùi ngoài ngõ",
        "nhà vệ sinh công cộng bẩn quá",
        "rác chất đống đầu ngõ",
    ],
    "ONMT": [
        "nhà máy xả khói đen mù mịt",
        "bụi từ công trình bay vào nhà dân",
        "mùi hôi thối từ xưởng bên cạnh",
        "người ta đốt rơm rạ khói mù mịt",
        "cơ sở sản xuất xả nước thải ra mương",
    ],
    "TO": [
        "hàng xóm hát karaoke ầm ĩ đến nửa đêm",
        "quán nhậu mở nhạc to quá",
        "công trình thi công ban đêm ồn ào",
        "tiếng ồn từ xưởng cưa không ngủ được",
        "đám cưới mở loa ầm ĩ cả đêm",
    ],
    "GT-HT": [
        "đường bị sụt lún có ổ gà to",
        "mặt đường hỏng nặng xe đi rất nguy hiểm",
        "mất nắp cống giữa đường",
        "biển báo giao thông bị đổ",
        "đèn tín hiệu giao thông ở ngã tư bị hỏng",
    ],
    "GT-TT": [
        "ùn tắc giao thông kéo dài cả tiếng",
        "xe tải đi ngược chiều",
        "tắc đường nghiêm trọng giờ cao điểm",
        "nhiều xe vượt đèn đỏ",
        "xe máy phóng nhanh lạng lách",
    ],
    "VTCC": [
        "xe buýt không dừng đón khách",
        "tài xế xe buýt thái độ thô lỗ",
        "xe buýt đến muộn cả tiếng",
        "tàu điện trên cao dừng chạy không thông báo",
        "phụ xe buýt thu tiền không xé vé",
    ],
    "CS": [
        "đèn đường bị tắt cả tuần nay",
        "cả dãy đèn chiếu sáng không sáng",
        "đèn đường bật cả ban ngày",
        "ngõ tối om vì đèn đường hỏng",
        "cột đèn chiếu sáng bị gãy",
    ],
    "CX": [
        "cây đổ chắn ngang đường",
        "cành cây to sắp gãy rất nguy hiểm",
        "có người chặt cây xanh trái phép",
        "cây xanh bị nghiêng sắp đổ vào nhà",
        "cây đổ đè lên xe máy",
    ],
    "TN": [
        "ngập úng sau mưa nước ngập đến đầu gối",
        "cống thoát nước bị tắc",
        "nước cống tràn lên đường",
        "mưa một chút là ngập cả ngõ",
        "rãnh thoát nước bị lấp",
    ],
    "NUOC": [
        "mất nước sinh hoạt ba ngày rồi",
        "nước máy có màu vàng và mùi lạ",
        "nước yếu không lên được tầng hai",
        "đường ống nước bị vỡ nước chảy lênh láng",
        "hóa đơn tiền nước tăng bất thường",
    ],
    "DIEN": [
        "mất điện từ sáng đến giờ",
        "dây điện bị đứt rơi xuống đường",
        "cột điện bị nghiêng sắp đổ",
        "hóa đơn tiền điện tăng vô lý",
        "điện chập chờn suốt cả tuần",
    ],
    "VT": [
        "dây cáp viễn thông chằng chịt rủ xuống đường",
        "tủ cáp viễn thông bị hỏng bung cửa",
        "sóng điện thoại rất yếu không gọi được",
        "dây cáp internet bị đứt vắt ngang ngõ",
        "cột ăng ten lắp trái phép trên mái nhà",
    ],
    "ANTT": [
        "có đánh nhau ngoài đầu ngõ",
        "tụ tập đánh bạc ở quán nước",
        "có người buôn bán ma túy",
        "nghi có đối tượng lạ theo dõi nhà",
        "bị lừa đảo qua điện thoại mất tiền",
    ],
    "YT": [
        "bệnh viện bắt chờ quá lâu",
        "nhân viên y tế thái độ kém",
        "khu phố có nhiều ca sốt xuất huyết",
        "thanh toán bảo hiểm y tế ở bệnh viện bị từ chối",
        "trạm y tế không có thuốc",
    ],
    "ATTP": [
        "ăn ở quán về bị ngộ độc thực phẩm",
        "cơ sở làm giò chả dùng hàn the",
        "bếp ăn không có giấy phép",
        "thực phẩm bẩn bán ngoài chợ",
        "bán đồ ăn hết hạn sử dụng",
    ],
    "GD": [
        "trường thu thêm các khoản phí ngoài quy định",
        "giáo viên ép học thêm",
        "con tôi không được nhận vào lớp một",
        "trường học không đảm bảo an toàn",
        "tuyển sinh đầu cấp không minh bạch",
    ],
    "DD": [
        "hàng xóm lấn chiếm đất nhà tôi",
        "làm sổ đỏ mãi không xong",
        "tiền đền bù giải phóng mặt bằng chưa nhận",
        "bị lấn đất công làm nhà",
        "cấp giấy chứng nhận quyền sử dụng đất chậm",
    ],
    "HCC": [
        "hồ sơ nộp trên cổng dịch vụ công bị quá hạn",
        "cán bộ một cửa đòi thêm giấy tờ không cần thiết",
        "cổng dịch vụ công bị lỗi không nộp được",
        "tài khoản định danh vneid bị lỗi",
        "thủ tục giải quyết quá chậm",
    ],
    "LĐXH": [
        "công ty nợ lương công nhân ba tháng",
        "chưa nhận được trợ cấp người có công",
        "hộ nghèo không được xét trợ cấp",
        "bị sa thải mà không được trả bảo hiểm",
        "chế độ thương binh chưa được chi trả",
    ],
    "KDTM": [
        "cửa hàng bán hàng giả hàng nhái",
        "bán giá cắt cổ cho khách",
        "cơ sở kinh doanh không có giấy phép",
        "bán hàng không rõ nguồn gốc xuất xứ",
        "chợ tự phát bán hàng lậu",
    ],
    "VHDL": [
        "lễ hội có nhiều hoạt động mê tín",
        "khách du lịch bị chặt chém",
        "quảng cáo rao vặt dán khắp cột điện",
        "tờ rơi quảng cáo dán đầy tường",
        "hướng dẫn viên du lịch lừa khách",
    ],
    "NN": [
        "kênh mương thủy lợi bị bồi lấp",
        "đê bị sạt lở",
        "gà vịt chết hàng loạt nghi dịch bệnh",
        "bão làm tốc mái nhà dân",
        "nước tưới tiêu không về ruộng",
    ],
    "CBCC": [
        "cán bộ phường gây khó dễ đòi tiền",
        "cán bộ nhận hối lộ",
        "cán bộ quát mắng người dân",
        "công chức đi làm muộn về sớm",
        "cán bộ địa chính vòi vĩnh",
    ],
    "PCCC": [
        "chung cư không có bình chữa cháy",
        "lối thoát hiểm bị chặn bằng xe máy",
        "cửa hàng chứa bình ga trái phép nguy cơ cháy nổ",
        "hệ thống báo cháy của tòa nhà bị hỏng",
        "nhà trọ không có lối thoát nạn",
    ],
    "KHAC": [
        "tôi muốn góp ý về việc trồng thêm cây xanh",
        "tôi có sáng kiến làm thêm sân chơi cho trẻ em",
        "đề nghị bố trí thêm ghế đá ở công viên",
        "góp ý nên có thêm bãi gửi xe",
        "kiến nghị mở thêm thư viện",
    ],
}
URGENT_PROBLEMS = [
    "nhà đang bị cháy to lắm",
    "cháy nhà khói bốc lên nghi ngút",
    "có tai nạn giao thông người bị thương nặng",
    "xe máy đâm nhau có người nằm bất tỉnh",
    "có trộm đang cạy cửa nhà hàng xóm",
    "dây điện đứt đang tóe lửa",
    "hố ga mất nắp có trẻ con rơi xuống",
    "cướp giật điện thoại vừa chạy",
    "cây đổ đè người bị thương",
    "cháy chợ lửa lan rất nhanh",
    "có người đang đập phá nhà hàng xóm",
    "thanh niên đang đánh nhau có cả dao",
    "đường ống ga bị rò mùi nồng nặc",
]

REPORT_FRAMES = [
    "{problem}",
    "tôi muốn phản ánh {problem}",
    "tôi gọi để phản ánh {problem} ở {ward}",
    "{problem} ở {ward}",
    "ở {ward} {problem}",
    "alo tổng đài ơi {problem}",
    "cho tôi báo là {problem}",
    "tôi phản ánh việc {problem} tại {ward} {time}",
    "{time} {problem}",
    "em muốn báo {problem} ở {ward} ạ",
    "chỗ tôi {problem}",
    "khu nhà tôi {problem} mãi không ai xử lý",
    "tôi kiến nghị xử lý {problem}",
    "phản ánh {problem}",
    "{problem} đề nghị cơ quan chức năng xử lý",
    "nhờ tổng đài xử lý giúp {problem}",
    "tôi ở {ward} muốn báo {problem}",
    "xin chào tôi muốn phản ánh {problem}",
    "báo cáo {problem} tại {ward}",
    "ngõ nhà tôi {problem} từ {time}",
    "dạ thì là {problem} chị ơi",
    "ờ em gọi báo là {problem}",
    "bên em {problem} mấy bữa nay rồi",
    "dzạ ở {ward} {problem} hông ai xử lý",
    "ừ thì {problem} ở gần nhà tôi ấy",
    "nhà tôi ở {ward} thì là {problem} ạ",
    "cho em phản ánh cái vụ {problem}",
]
URGENT_FRAMES = [
    "cứu với {problem}",
    "khẩn cấp {problem} ở {ward}",
    "{problem} ở {ward} nhanh lên",
    "alo alo {problem}",
    "gấp lắm {problem}",
    "{problem} mau cử người đến",
]
TIMES = [
    "sáng nay",
    "tối hôm qua",
    "chiều qua",
    "hôm kia",
    "tuần trước",
    "lúc tám giờ tối qua",
    "từ tối qua",
    "mấy hôm nay",
    "đêm qua",
    "sáng thứ hai tuần này",
    "ngày hai mươi tháng mười một",
    "cách đây mười phút",
    "lúc chín giờ sáng nay",
    "khoảng mười giờ đêm qua",
    "chiều nay lúc ba giờ",
    "từ hôm thứ bảy",
    "ba tiếng trước",
    "cách đây chừng hai mươi phút",
    "khoảng một tiếng trước",
    "bảy giờ tối thứ sáu",
    "mùng hai tháng này",
    "hôm thứ tư tuần trước",
]

DOSSIER_FRAMES = [
    "tôi muốn tra cứu hồ sơ",
    "tra cứu tình trạng hồ sơ mã {code}",
    "hồ sơ của tôi mã số {code} đến đâu rồi",
    "kiểm tra giúp tôi hồ sơ {code}",
    "tôi nộp hồ sơ rồi muốn biết đã giải quyết chưa",
    "mã hồ sơ là {code} xem giúp tôi",
    "cho tôi hỏi tình trạng hồ sơ",
    "hồ sơ {code} đã có kết quả chưa",
    "tôi muốn kiểm tra tiến độ hồ sơ đã nộp",
    "tra hồ sơ",
    "hồ sơ mã {code} xử lý tới đâu rồi ạ",
    "em muốn hỏi hồ sơ đăng ký của em đã xong chưa",
    "xem tình trạng hồ sơ số {code}",
    "tôi có mã hồ sơ muốn tra cứu",
    "hồ sơ h hai sáu {short} tra giúp",
    "bao giờ thì hồ sơ của tôi có kết quả",
    "hồ sơ tôi nộp tuần trước giờ đang ở khâu nào",
    "cái hồ sơ {kind} của em làm xong chưa ạ",
    "hồ sơ {kind} nộp trên mạng giờ tới bước nào rồi",
    "ờ hồ sơ {kind} nhà tôi đã được duyệt chưa",
    "em có mã {code} muốn xem hồ sơ tới đâu",
    "dạ cho hỏi hồ sơ {kind} nộp từ tháng trước sao chưa có kết quả",
]
DOSSIER_KINDS = [
    "đăng ký khai sinh",
    "cấp phép xây dựng",
    "cấp đổi sổ đỏ",
    "đăng ký kinh doanh",
    "chứng thực",
    "đăng ký thường trú",
    "cấp đổi bằng lái",
]
PROCEDURES = [
    "làm giấy khai sinh",
    "đăng ký khai sinh cho con",
    "đăng ký thường trú",
    "nhập hộ khẩu",
    "đăng ký kết hôn",
    "chứng thực bản sao",
    "công chứng giấy tờ",
    "xin lý lịch tư pháp",
    "xin giấy phép xây dựng",
    "đăng ký hộ kinh doanh",
    "đổi giấy phép lái xe",
    "làm căn cước",
    "cấp lại căn cước công dân",
    "đăng ký xe máy",
    "sang tên xe",
    "đăng ký tạm trú",
    "khai tử",
    "xác nhận tình trạng hôn nhân",
    "cấp đổi sổ đỏ",
    "làm hộ chiếu",
]
PROCEDURE_FRAMES = [
    "{proc} cần những giấy tờ gì",
    "thủ tục {proc} như thế nào",
    "cho tôi hỏi {proc} nộp ở đâu",
    "{proc} mất bao lâu",
    "{proc} hết bao nhiêu tiền",
    "lệ phí {proc} là bao nhiêu",
    "tôi muốn hỏi thủ tục {proc}",
    "hướng dẫn giúp tôi {proc}",
    "muốn {proc} thì phải làm sao",
    "{proc} cần mang theo gì",
    "hồ sơ {proc} gồm những gì",
    "em hỏi chút {proc} thì nộp ở phường hay ở đâu ạ",
    "{proc} có làm online được không",
    "bao lâu thì {proc} xong",
    "tư vấn giúp tôi thủ tục {proc}",
    "ờ {proc} thì chuẩn bị giấy tờ gì hả em",
    "dạ {proc} có nộp qua mạng được không",
    "cho chị hỏi {proc} thì lên đâu làm",
    "{proc} phí bao nhiêu vậy em",
]
OPERATOR = [
    "cho tôi gặp tổng đài viên",
    "tôi muốn nói chuyện với người thật",
    "chuyển máy cho nhân viên",
    "gặp điện thoại viên",
    "cho tôi nói chuyện với cán bộ",
    "tôi không muốn nói chuyện với máy",
    "nối máy cho người trực tổng đài",
    "gặp người",
    "chuyển cho người nghe giúp tôi",
    "cho gặp nhân viên tư vấn",
    "tôi cần gặp người trực",
    "máy không hiểu tôi cho gặp người",
    "có ai nghe máy không cho tôi gặp người",
    "chuyển tôi sang tổng đài viên",
    "xin gặp trực tiếp cán bộ tiếp nhận",
    "cho em gặp chị tổng đài",
    "bấm số nào để gặp nhân viên",
    "tôi muốn gặp điều phối viên",
    "gặp tư vấn viên",
    "nối máy giúp tôi",
    "chuyển máy giùm tôi với",
    "có ai trực không cho tôi nói chuyện",
    "thôi cho tôi gặp ai đó trực tiếp",
    "tôi không muốn nói với máy tự động",
    "gặp người thật giùm em",
    "bấm phím mấy để gặp nhân viên",
    "có nhân viên nào trực không",
    "máy nói gì tôi không hiểu cho gặp người",
]
COMPLAINT = [
    "tôi muốn khiếu nại quyết định thu hồi đất",
    "tôi muốn tố cáo cán bộ xã tham nhũng",
    "tôi làm đơn khiếu nại",
    "khiếu nại về quyết định xử phạt",
    "tôi muốn tố cáo ông chủ tịch phường",
    "tôi muốn gửi đơn tố cáo",
    "tố cáo hành vi nhận hối lộ của cán bộ",
    "khiếu nại quyết định hành chính của ủy ban",
    "tôi muốn khiếu nại về việc bồi thường giải phóng mặt bằng",
    "tôi tố cáo giám đốc sở làm sai",
    "tôi có đơn khiếu nại gửi ủy ban",
    "khiếu nại lần hai vì chưa đồng ý kết quả giải quyết",
    "tố cáo cán bộ thuế",
    "tôi muốn khiếu kiện quyết định cưỡng chế",
    "tôi cần nộp đơn tố giác",
    "khiếu nại tập thể của bà con trong thôn",
    "tố cáo công an phường bao che",
    "tôi không đồng ý quyết định giải quyết khiếu nại",
    "muốn tố cáo cán bộ địa chính nhận tiền",
    "khiếu nại kỷ luật công chức",
]
COMPLAINT_WHO = [
    "tôi muốn",
    "em muốn",
    "gia đình tôi muốn",
    "bà con chúng tôi muốn",
    "dạ tôi cần",
    "ờ tôi gọi để",
]
COMPLAINT_ACT = ["khiếu nại", "tố cáo", "gửi đơn khiếu nại", "làm đơn tố cáo", "khiếu nại lại", "tố giác"]
COMPLAINT_ABOUT = [
    "quyết định thu hồi đất của ủy ban",
    "cán bộ phường ăn tiền",
    "việc trưởng thôn ăn chặn tiền hỗ trợ",
    "việc giải quyết đơn quá chậm",
    "quyết định cưỡng chế công trình",
    "mức bồi thường khi giải phóng mặt bằng",
    "chủ tịch xã bao che sai phạm",
    "kế toán xã tham ô công quỹ",
]
AFFIRM = [
    "đúng rồi",
    "vâng",
    "vâng ạ",
    "ừ",
    "ừ đúng",
    "đúng",
    "chính xác",
    "phải",
    "phải rồi",
    "đúng vậy",
    "ok",
    "được",
    "được rồi",
    "có",
    "có ạ",
    "dạ đúng",
    "dạ vâng",
    "đúng thế",
    "chuẩn rồi",
    "ờ đúng rồi",
    "dạ phải",
    "vâng đúng rồi ạ",
    "đồng ý",
    "xác nhận",
    "ừ được",
    "đúng như vậy",
    "oke",
    "dạ",
    "ừm đúng",
    "vâng chính xác",
    "đúng rồi em",
    "chuẩn",
    "đúng rồi đấy",
    "đúng rồi tạo đi",
    "vâng gửi đi",
    "ừa",
    "ờ phải",
    "đúng đó",
    "dzạ đúng rồi",
    "dạ có",
    "ừ ừ",
    "đúng rồi anh ạ",
    "vâng đúng thế",
    "ok đúng rồi",
]
DENY = [
    "không",
    "không phải",
    "sai rồi",
    "không đúng",
    "chưa đúng",
    "nhầm rồi",
    "không phải đâu",
    "không ạ",
    "sai",
    "không đúng rồi",
    "chưa phải",
    "không phải thế",
    "dạ không",
    "ko",
    "hông",
    "đâu có",
    "không có",
    "sai rồi em",
    "nhầm",
    "không phải vậy",
    "chưa",
    "chưa ạ",
    "không đồng ý",
    "sai hết rồi",
    "không phải số đó",
    "không phải tên đó",
    "bạn nghe nhầm rồi",
    "không không",
    "sai thông tin rồi",
    "không muốn",
    "thôi không cần",
    "không chính xác",
    "thôi khỏi đi",
    "khỏi",
    "hông đúng",
    "ko phải đâu",
    "sai rồi chị ơi",
    "dạ hông phải",
    "không phải đâu anh",
]
GREET = [
    "alo",
    "xin chào",
    "chào bạn",
    "alô",
    "a lô",
    "chào tổng đài",
    "alo tổng đài",
    "xin chào tổng đài",
    "chào em",
    "chào chị",
    "alo có ai không",
    "alo xin chào",
    "chào buổi sáng",
    "chào anh",
    "alo alo",
    "dạ alo",
    "xin chào ạ",
    "chào",
    "hello",
    "alo tổng đài một không hai hai",
    "chào tổng đài viên",
    "ê alo alo",
    "alo tổng đài phải không",
    "dạ chào tổng đài ạ",
    "alo nghe rõ không",
    "alo em ơi",
    "dạ em chào chị ạ",
]
GOODBYE = [
    "tạm biệt",
    "cảm ơn nhé tạm biệt",
    "chào nhé",
    "cảm ơn",
    "cảm ơn em",
    "thế thôi cảm ơn",
    "vậy thôi nhé",
    "tôi cúp máy đây",
    "hết rồi cảm ơn",
    "cảm ơn tổng đài",
    "thôi chào nhé",
    "cảm ơn nhiều",
    "bye",
    "xong rồi cảm ơn",
    "thế là đủ rồi chào",
    "không còn gì nữa cảm ơn",
    "cảm ơn chị nhé",
    "tạm biệt nhé",
    "chào tạm biệt",
    "vậy được rồi cảm ơn",
    "cảm ơn đã hỗ trợ",
    "cám ơn",
    "cám ơn em nhiều",
    "thế thôi chào chị",
    "thôi chào em nhé",
    "vậy thôi nha cảm ơn",
    "dạ em cảm ơn ạ",
]

INFORM_NAME = [
    "tên tôi là {name}",
    "tôi tên là {name}",
    "tôi là {name}",
    "{name}",
    "tên {name}",
    "họ tên đầy đủ là {name}",
    "dạ em tên {name}",
    "tên người phản ánh là {name}",
    "em là {name} ạ",
    "tôi tên {name}",
    "họ và tên {name}",
    "dạ {name} ạ",
    "ờ {name}",
    "{name} ạ",
    "anh tên {name}",
]
INFORM_VALUE = [
    "số điện thoại của tôi là {phone}",
    "số của tôi {phone}",
    "{phone}",
    "điện thoại {phone}",
    "số điện thoại {phone}",
    "gọi lại cho tôi số {phone}",
    "số máy {phone}",
    "số liên lạc là {phone}",
    "số căn cước của tôi là {cccd}",
    "căn cước công dân {cccd}",
    "{cccd}",
    "số cccd {cccd}",
    "số định danh cá nhân là {cccd}",
    "mã hồ sơ là {code}",
    "{code}",
    "mã số {code}",
    "ở {ward}",
    "{ward}",
    "tại {ward}",
    "địa chỉ ở {ward}",
    "nhà tôi ở {ward}",
    "chỗ đó thuộc {ward}",
    "số nhà mười hai ngõ năm {ward}",
    "xảy ra {time}",
    "{time}",
    "vào {time}",
    "từ {time}",
    "lúc {time}",
    "khoảng {time}",
    "việc đó xảy ra {time}",
    "tôi ở {ward} số điện thoại {phone}",
    "bên {ward}",
    "dạ {ward} ạ",
    "ở bên {ward} á",
    "thuộc {ward} ạ",
    "dạ bên {ward}",
    "em ở {ward}",
    "nhà ở {ward} ạ",
    "dạ {time}",
    "tầm {time}",
    "{time} ạ",
]


def strip_diacritics(text: str) -> str:
    nfd = unicodedata.normalize("NFD", text.replace("đ", "d"))
    return "".join(ch for ch in nfd if unicodedata.category(ch) != "Mn")


def asr_noise(text: str, rng: random.Random) -> str:
    """Occasionally drop the diacritics of one word (a typical ASR slip)."""
    words = text.split()
    if len(words) > 2 and rng.random() < 0.12:
        i = rng.randrange(len(words))
        if "[" not in words[i] and "]" not in words[i] and "(" not in words[i]:
            words[i] = strip_diacritics(words[i])
    return " ".join(words)


def named(name: str) -> str:
    return f"[{name}](name)"


def reports(rng: random.Random) -> list[str]:
    out = []
    for problems in PROBLEMS.values():
        for problem in problems:
            for frame in rng.sample(REPORT_FRAMES, 5):
                ward, _ = ward_mention(rng, rng.choice(("hanoi", "hanoi", "haiphong", "cantho")))
                out.append(frame.format(problem=problem, ward=ward, time=rng.choice(TIMES)))
    for problem in URGENT_PROBLEMS:
        for frame in rng.sample(URGENT_FRAMES, 3) + rng.sample(REPORT_FRAMES, 2):
            ward, _ = ward_mention(rng)
            out.append(frame.format(problem=problem, ward=ward, time=rng.choice(TIMES)))
    for _ in range(25):
        problem = rng.choice(rng.choice(list(PROBLEMS.values())))
        name = named(random_name(rng))
        phone = spoken_digits(random_phone(rng), rng)
        ward, _ = ward_mention(rng)
        frame = rng.choice(
            [
                "tôi là {name} ở {ward} muốn phản ánh {problem}",
                "tôi tên {name} số điện thoại {phone} phản ánh {problem}",
                "em là {name} báo là {problem} ở {ward}",
            ]
        )
        out.append(frame.format(name=name, phone=phone, ward=ward, problem=problem))
    return out


def informs(rng: random.Random) -> list[str]:
    out = []
    for frame in INFORM_NAME:
        for _ in range(4):
            out.append(frame.format(name=named(random_name(rng))))
    for frame in INFORM_VALUE:
        for _ in range(3):
            code = rng.choice(
                [
                    spoken_digits(random_dossier_tail(rng), rng),
                    "h hai sáu " + spoken_digits(random_dossier_tail(rng), rng),
                ]
            )
            ward, _ = ward_mention(rng, rng.choice(("hanoi", "haiphong", "cantho")))
            out.append(
                frame.format(
                    phone=spoken_digits(random_phone(rng), rng),
                    cccd=spoken_digits(random_cccd(rng), rng),
                    code=code,
                    ward=ward,
                    time=rng.choice(TIMES),
                )
            )
    return out


def build(rng: random.Random) -> dict[str, list[str]]:
    dossier = []
    for frame in DOSSIER_FRAMES:
        for _ in range(3):
            tail = random_dossier_tail(rng)
            dossier.append(
                frame.format(
                    code=spoken_digits(tail, rng),
                    short=spoken_digits(tail, rng),
                    kind=rng.choice(DOSSIER_KINDS),
                )
            )
    procedure = [f.format(proc=p) for p in PROCEDURES for f in rng.sample(PROCEDURE_FRAMES, 5)]
    return {
        "report": reports(rng),
        "dossier_lookup": dossier,
        "procedure_question": procedure,
        "request_operator": OPERATOR
        + [f"{p} {o}" for p in ("alo", "thôi", "dạ") for o in rng.sample(OPERATOR, 5)],
        "complaint_denunciation": COMPLAINT
        + [f"{p} {c}" for p in ("alo", "dạ", "xin chào") for c in rng.sample(COMPLAINT, 5)]
        + [
            f"{rng.choice(COMPLAINT_WHO)} {act} {rng.choice(COMPLAINT_ABOUT)}"
            for act in COMPLAINT_ACT
            for _ in range(5)
        ],
        "affirm": AFFIRM,
        "deny": DENY,
        "inform": informs(rng),
        "greet": GREET,
        "goodbye": GOODBYE,
    }


def render(examples: dict[str, list[str]], rng: random.Random) -> str:
    lines = ['version: "3.1"', "", "nlu:"]
    for intent, texts in examples.items():
        seen: set[str] = set()
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        for text in texts:
            text = asr_noise(" ".join(text.split()), rng)
            if text not in seen:
                seen.add(text)
                lines.append(f"    - {text}")
    return "\n".join(lines) + "\n"


def main() -> None:
    rng = random.Random(SEED)
    OUT.write_text(render(build(rng), rng), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
